"""A tree as it was at a git commit, read from git's objects: ``diff --old-ref REF``.

Nothing is checked out and the working tree is not touched: the files under each path at
REF (``git ls-tree``) are written from their blobs (``git cat-file --batch``) into a
temporary directory, one directory per layer, which the compiler then reads like any tree.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .._errors import Diagnostic, InputError


def tree_at(ref: str, paths: Sequence[str], into: Path, max_bytes: int) -> list[str]:
    """The layers ``paths`` (relative to the working directory, in order) as they were at
    commit ``ref``, written under ``into``; raises InputError when this is not a git
    repository, ``ref`` names no commit, or a path was absent at it."""
    top = _git("rev-parse", "--show-toplevel", what="find the git repository").strip()
    if ref.startswith("-"):  # git would read it as an option
        raise _error(f"`{ref}` is not a commit name", "name a commit: a hash, branch or tag")
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=None).strip()
    into = into.resolve()
    if not commit:
        raise _error(f"`{ref}` names no commit of this repository", "git log --oneline")
    layers: list[str] = []
    for index, path in enumerate(paths):
        inside = os.path.relpath(os.path.abspath(path), top)
        if inside == ".." or inside.startswith(".." + os.sep):
            raise _error(f"{path} is outside the git repository at {top}")
        listed = _git("ls-tree", "-r", "-z", "--full-tree", commit, "--", inside, what=None)
        entries = [e for e in listed.split("\0") if e]  # names as the file system's
        if not entries:
            raise _error(f"{path} did not exist at {ref}", f"git ls-tree -r {ref} -- {inside}")
        layer = into / f"layer-{index}"
        layer.mkdir(parents=True, exist_ok=True)  # a layer without YAML is an empty one
        single = len(entries) == 1 and entries[0].partition("\t")[2] == inside
        files: list[tuple[str, Path]] = []
        for entry in entries:
            meta, _, name = entry.partition("\t")
            mode, kind, sha = meta.split()
            if kind != "blob" or mode == "120000":  # submodules and links: not configuration
                if single:
                    raise _error(f"{path} at {ref} is a {'link' if kind == 'blob' else kind}")
                continue
            if not single and not name.endswith((".yaml", ".yml")):
                continue  # only what discovery reads
            files.append((sha, _inside(layer, name, inside, ref)))
        _write_blobs(files, ref, max_bytes)
        layers.append(str(layer / os.path.basename(inside)) if single else str(layer))
    return layers


def _inside(layer: Path, name: str, inside: str, ref: str) -> Path:
    """Where the file ``name`` of the tree at ``ref`` is written: under ``layer``, never
    elsewhere, whatever a crafted tree names it (``..``, ``.``, empty parts)."""
    relative = os.path.basename(name) if name == inside else os.path.relpath(name, inside)
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts) or os.path.isabs(relative):
        raise _error(f"a file at {ref} has a name no checkout would write: {name!r}")
    target = layer.joinpath(*parts)
    if os.path.commonpath([layer, target]) != str(layer):
        raise _error(f"a file at {ref} has a name no checkout would write: {name!r}")
    return target


def _write_blobs(files: Sequence[tuple[str, Path]], ref: str, max_bytes: int) -> None:
    """Each blob to its file, sizes checked first: a file over ``max_bytes`` is refused
    before it is read, as the compiler refuses it in the working tree."""
    if not files:
        return
    asked = "".join(f"{sha}\n" for sha, _ in files).encode()
    checked = subprocess.run(
        ["git", "cat-file", "--batch-check"], input=asked, capture_output=True, check=False
    )
    for line, (_, target) in zip(checked.stdout.splitlines(), files, strict=False):
        fields = line.split()
        if len(fields) != 3 or fields[1] != b"blob":
            raise _error(f"git cannot read {target.name} at {ref} (missing from the repository)")
        if int(fields[2]) > max_bytes:
            raise _error(
                f"{target.name} at {ref} is larger than {max_bytes} bytes",
                "split it, or raise max-file-bytes",
            )
    done = subprocess.run(
        ["git", "cat-file", "--batch"], input=asked, capture_output=True, check=False
    )
    if done.returncode != 0 or checked.returncode != 0:
        raise _error(f"git could not read the files at {ref}")
    out, at = done.stdout, 0
    for _, target in files:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        start = header_end + 1
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(out[start : start + size])
        at = start + size + 1  # the blob, then a newline


def _git(*args: str, what: str | None) -> str:
    """git's output, its bytes decoded as file names are (a name need not be UTF-8)."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except OSError:
        raise _error("git is not installed (or not on PATH)", "install git") from None
    if done.returncode != 0 and what is not None:
        raise _error(f"cannot {what}: not a git repository here", "run it inside the repository")
    return os.fsdecode(done.stdout) if done.returncode == 0 else ""


def _error(message: str, hint: str | None = None) -> InputError:
    return InputError([Diagnostic.at("input-not-found", message, None, hint=hint)])
