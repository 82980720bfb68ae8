"""The bare floor: PyYAML's C loader plus jsonschema validation of the same documents, in one
process, nothing else (no positions, no layering, no checks, no report)."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import yaml

from flue_decl.compiler import bundled_schema


def main(tree: str) -> int:
    validator = jsonschema.Draft202012Validator(bundled_schema())
    errors = 0
    for file in sorted(Path(tree).glob("*.yaml")):
        for doc in yaml.load_all(file.read_bytes(), Loader=yaml.CSafeLoader):
            errors += sum(1 for _ in validator.iter_errors(doc))
    print(errors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
