"""The wheel carries the schemas and the catalog, and an installed copy uses its own."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import REPO


def test_wheel_ships_schemas_catalog_and_types(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("flue_decl-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    for schema in sorted((REPO / "schemas").glob("*.json")):
        assert f"flue_decl/schemas/{schema.name}" in names
    assert {"flue_decl/_data/catalog.json", "flue_decl/py.typed"} <= names
    # Run from the unpacked wheel, outside the checkout: the schemas come from the package.
    probe = (
        "import flue_decl, flue_decl._domain as s; print(s.schema_dir()); "
        "print(flue_decl.compile_paths([]).ok)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path / "site")},
        timeout=60,
    )
    schema_dir, ok = out.stdout.split()
    assert Path(schema_dir) == tmp_path / "site" / "flue_decl" / "schemas"
    assert ok == "True"
