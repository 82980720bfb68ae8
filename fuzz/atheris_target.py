"""Coverage-guided fuzzing of the whole pipeline with atheris.

    make fuzz                         # FUZZ_SECONDS=600 by default
    .venv/bin/python fuzz/atheris_target.py -max_total_time=600 fuzz/corpus

Any exception other than flue-decl's FlueDeclError, and any crash, is a finding.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

with atheris.instrument_imports():
    from fuzz.pipeline import run_pipeline


def test_one_input(data: bytes) -> None:
    run_pipeline(data, workdir="/dev/shm" if sys.platform == "linux" else None)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
