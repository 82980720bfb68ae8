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


def tree_at(ref: str, paths: Sequence[str], into: Path) -> list[str]:
    """The layers ``paths`` (relative to the working directory, in order) as they were at
    commit ``ref``, written under ``into``; raises InputError when this is not a git
    repository, ``ref`` names no commit, or a path was absent at it."""
    top = _git("rev-parse", "--show-toplevel", what="find the git repository").strip()
    if ref.startswith("-"):  # git would read it as an option
        raise _error(f"`{ref}` is not a commit name", "name a commit: a hash, branch or tag")
    commit = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=None).strip()
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
        files: list[tuple[str, Path]] = []
        for entry in entries:
            meta, _, name = entry.partition("\t")
            mode, kind, sha = meta.split()
            if kind != "blob" or mode == "120000":  # submodules and links: not configuration
                continue
            relative = "." if name == inside else os.path.relpath(name, inside)
            target = layer / (os.path.basename(name) if relative == "." else relative)
            files.append((sha, target))
        _write_blobs(files)
        single = len(entries) == 1 and entries[0].partition("\t")[2] == inside
        layers.append(str(layer / os.path.basename(inside)) if single else str(layer))
    return layers


def _write_blobs(files: Sequence[tuple[str, Path]]) -> None:
    if not files:
        return
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        input="".join(f"{sha}\n" for sha, _ in files).encode(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise _error("git could not read the files' contents")
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
