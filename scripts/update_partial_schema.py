"""Regenerate schemas/partial.schema.json from the kind schemas (``make schemas``)."""

from __future__ import annotations

import json
from pathlib import Path

from flue_decl.compiler._schemafiles import load_schemas, partial_schema

TARGET = Path(__file__).resolve().parent.parent / "schemas" / "partial.schema.json"


def main() -> None:
    load_schemas.cache_clear()
    TARGET.write_text(json.dumps(partial_schema(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
