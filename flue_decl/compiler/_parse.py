"""YAML text to documents that remember where every node came from.

PyYAML's loaders silently accept duplicate keys (last one wins) and non-string keys
(``1: x``, ``yes: x``), forget positions once objects are built, and compose the node
graph recursively in C, where a deeply nested document crashes the process and an alias
bomb is expanded before anyone can look. So values are built (``_events``, its state and
key rules in ``_frames``, scalars in ``_scalars``) straight from libyaml's *event* stream,
in one iterative pass:

- the nesting depth is checked as each collection opens, before anything is built;
- an alias costs the size of its anchor, charged against a per-file node budget and the
  tree's alias budget *before* it is expanded, so a few hundred bytes (or many files of
  them) cannot become millions of nodes;
- what each value will hold is charged to the tree's memory budget (``_budget``) as it
  is built, so no tree within the caps takes validate past 20x its size plus 100 MiB;
- an alias to an anchor that is still open (a cycle) or undefined is refused;
- every value and key gets its file:line:col, keys are checked as they are met, and
  only the plain YAML tags are accepted: a ``!!python/...`` tag is refused, nothing runs.

Plain files (no anchor, alias or tag, nothing to report, small) are read by ``_fastparse``
instead: libyaml composes them in C, where their depth is bounded by libyaml's own
nesting limit, and the documents are those the event pass gives, for the same charge.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import yaml
import yaml.reader
from yaml.events import DocumentStartEvent

from .._discover import MAX_FILE_BYTES, SourceFile
from .._errors import Diagnostic, Place, Severity
from .._files import read_capped
from .._secrets import is_credential_name
from . import _fastparse, _portable, _suppress
from ._budget import FILE, TreeBudget, refusal
from ._document import Document, ParsedFile
from ._events import MAX_DEPTH, _DocumentBuilder
from ._frames import _AbortFile
from ._places import MAX_PLACEABLE

__all__ = [
    "MAX_DEPTH",
    "Document",
    "ParsedFile",
    "decode",
    "parse_file",
    "parse_text",
    "read_source",
]

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def decode(raw: bytes, file: str) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 (a BOM is fine); a bad byte is reported by line and column, not offset."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, Diagnostic.at(
            "encoding",
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
            Place(file, line, column),
            hint="save the file as UTF-8",
        )
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        return None, Diagnostic.at(
            "encoding",
            "the file contains a NUL character",
            Place(file, line, column),
            hint="save the file as UTF-8 text",
        )
    return text, None


def read_source(
    source: SourceFile, max_bytes: int = MAX_FILE_BYTES
) -> tuple[bytes | None, Diagnostic | None]:
    try:
        raw = read_capped(source.path, max_bytes)
    except OSError as exc:
        return None, Diagnostic(
            Severity.ERROR,
            "io-error",
            f"cannot read {source.path}: {exc.strerror or exc}",
            file=source.path,
        )
    if len(raw) > max_bytes:
        return None, Diagnostic.at(
            "file-too-large",
            f"file is larger than {max_bytes} bytes",
            Place(source.path, 1, 1),
            hint="split it into several files",
        )
    return raw, None


def parse_text(
    text: str, source: SourceFile, sha256: str | None = None, tree: TreeBudget | None = None
) -> ParsedFile:
    """``tree``: the budget shared by every file of one compile (see ``_budget``); by
    default this file's own."""
    unportable = _portable.problem(text, source.path, _Loader)
    if unportable is not None:  # read differently with and without libyaml: refused
        unportable = _at_credential_key(unportable, text)
        suppressions, problems = _suppress.find(text, source.path)
        return ParsedFile(source, (), (unportable, *problems), sha256, suppressions)
    if tree is None:
        tree = TreeBudget(len(text))
    fast = _fastparse.parse(text, source.path, source.layer, tree)
    if fast is not None:
        documents, charge, _ = fast
        tree.used += charge
        return parsed(source, text, sha256, documents)
    documents, found = read_events(text, source, tree)
    return parsed(source, text, sha256, documents, found)


def parsed(
    source: SourceFile,
    text: str,
    sha256: str | None,
    documents: list[Document],
    found: Sequence[Diagnostic] = (),
) -> ParsedFile:
    """The file read: its documents, what the parse ``found`` and its suppressions."""
    suppressions, problems = _suppress.find(text, source.path)
    return ParsedFile(source, tuple(documents), (*found, *problems), sha256, suppressions)


def read_events(
    text: str, source: SourceFile, tree: TreeBudget
) -> tuple[list[Document], list[Diagnostic]]:
    """``text``'s documents and problems by the event pass (see the module docstring),
    charged to ``tree``."""
    builder = _DocumentBuilder(source.path, source.layer, tree)
    index = 0
    try:
        events = iter(yaml.parse(text, Loader=_Loader))
        for event in events:
            if isinstance(event, DocumentStartEvent):
                builder.document(events, index)
                index += 1
    except _AbortFile:
        pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = (
            Place(source.path, mark.line + 1, mark.column + 1) if mark else Place(source.path, 1, 1)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        message = f"invalid YAML: {problem}"
        context = exc.context_mark
        if exc.problem and exc.context and context is not None and context is not mark:
            message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
            if "scalar" in exc.context and _credential_value(text, context.line, context.column):
                # Inside a credential's scalar: shown at its start (the key's line, which an
                # echo masks), never at a continuation line that holds part of the value.
                message += f" (the problem is at line {place.line})"
                place = Place(source.path, context.line + 1, context.column + 1)
        if "maximum nesting depth" in problem:  # libyaml's own limit, met while scanning ahead
            builder.report(
                Diagnostic.at(
                    "yaml-too-deep",
                    f"nesting deeper than {MAX_DEPTH} levels",
                    place,
                    hint="flatten the structure; no provider document needs this depth",
                )
            )
        else:
            builder.report(
                Diagnostic.at("yaml-syntax", message, place, hint=_syntax_hint(problem))
            )
    except yaml.reader.ReaderError as exc:  # a control character: position, not a mark
        position = min(max(exc.position, 0), len(text))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
        message = f"control character U+{character:04X} is not allowed in YAML"
        owner = _owning_credential(text, line - 1)
        if owner is not None:  # a continuation line of a credential: shown at its key
            message += f" (at line {line}, in a credential's value)"
            line, column = owner + 1, 1
        builder.report(
            Diagnostic.at(
                "yaml-syntax",
                message,
                Place(source.path, line, column),
                hint="remove it, or write it as an escape inside double quotes",
            )
        )
    except yaml.YAMLError as exc:  # anything else without a mark
        builder.report(
            Diagnostic.at("yaml-syntax", f"invalid YAML: {exc}", Place(source.path, 1, 1))
        )
    except (ValueError, OverflowError) as exc:  # PyYAML's own scanner: chr() of an escape
        builder.report(
            Diagnostic.at(
                "yaml-syntax",
                f"invalid YAML: {type(exc).__name__} while scanning",
                Place(source.path, 1, 1),
            )
        )
    tree.used += builder.weight + builder.share.charged
    return builder.documents, builder.findings.all()


_KEY_BEFORE = re.compile(r"""([^\s"'{},\[\]]+)["']?\s*:\s*(?:[|>][-+0-9]*\s*)?$""")
_KEY_LINE = re.compile(r"""^(\s*)(?:-\s+)?["']?([^\s"':{},\[\]]+)["']?\s*:(?:\s|$)""")


def _credential_name(name: str) -> bool:
    return name == "apiKey" or is_credential_name(name)


def _credential_value(text: str, line: int, column: int) -> bool:
    """Whether the scalar starting at (0-based) ``line``, ``column`` is the value of a key
    that holds a credential (``apiKey``, ``X-Api-Token:``...)."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return False
    found = _KEY_BEFORE.search(lines[line][:column])
    return found is not None and _credential_name(found.group(1))


def _owning_credential(text: str, line: int) -> int | None:
    """The (0-based) line of the credential key whose multi-line value (0-based) ``line``
    continues, if any: the nearest line above it indented less, when it names one."""
    lines = text.split("\n")
    if not 0 < line < len(lines):
        return None
    own = _KEY_LINE.match(lines[line])
    indent = len(lines[line]) - len(lines[line].lstrip(" "))
    if own is not None and _credential_name(own.group(2)):
        return line  # the key's own line: its echo is masked
    for above in range(line - 1, -1, -1):
        text_above = lines[above]
        if not text_above.strip():
            continue
        depth = len(text_above) - len(text_above.lstrip(" "))
        if depth < indent or _KEY_LINE.match(text_above):
            key = _KEY_LINE.match(text_above)
            return above if key is not None and _credential_name(key.group(2)) else None
    return None


def _at_credential_key(found: Diagnostic, text: str) -> Diagnostic:
    """``found`` moved to the key's line when it is on a continuation line of a credential's
    value (whose echo would show part of the value), else as it is."""
    line = (found.line or 1) - 1
    owner = _owning_credential(text, line)
    if owner is None or owner == line:
        return found
    return Diagnostic.at(
        found.code,
        f"{found.message} (at line {line + 1}, in a credential's value)",
        Place(found.file or "", owner + 1, 1),
        hint=found.hint,
    )


def _syntax_hint(problem: str) -> str | None:
    if "mapping values are not allowed" in problem:
        return "quote values that contain `: `"
    if "found character '\\t'" in problem or "tab" in problem:
        return "indent with spaces, not tabs"
    if "found undefined alias" in problem:
        return "define the anchor (&name) before using the alias (*name)"
    if "expected <block end>" in problem:
        return "check the indentation of this line and the one above"
    return None


def parse_file(
    source: SourceFile, max_bytes: int = MAX_FILE_BYTES, tree: TreeBudget | None = None
) -> ParsedFile:
    if tree is not None:
        refused = charged(source, tree)
        if refused is not None:
            return refused
    raw, problem = read_source(source, min(max_bytes, MAX_PLACEABLE))
    if raw is None:
        assert problem is not None
        return ParsedFile(source, (), (problem,))
    digest = hashlib.sha256(raw).hexdigest()
    text, problem = decode(raw, source.path)
    if text is None:
        assert problem is not None
        return ParsedFile(source, (), (problem,), digest)
    return parse_text(text, source, digest, tree)


def charged(source: SourceFile, tree: TreeBudget) -> ParsedFile | None:
    """What a file costs by being there, read or not, charged to ``tree``; the file refused
    unread where the tree cannot pay it."""
    tree.used += FILE + 2 * len(source.path)
    if tree.used <= tree.limit:
        return None
    message, hint = refusal("memory", tree.limit)
    refused = Diagnostic.at("yaml-too-large", message, Place(source.path, 1, 1), hint=hint)
    return ParsedFile(source, (), (refused,))
