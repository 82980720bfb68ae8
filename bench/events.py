"""The bare libyaml event parse: every file of a tree read and run through PyYAML's C
parser, events consumed and dropped (no values, no places, no checks). The limit for any
reader built on libyaml's events, as flue-decl's is."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(tree: str) -> int:
    events = 0
    for file in sorted(Path(tree).glob("*.yaml")):
        for _ in yaml.parse(file.read_bytes(), Loader=yaml.CSafeLoader):
            events += 1
    print(events)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
