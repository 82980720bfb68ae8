"""YAML that reads the same with and without libyaml.

PyYAML parses with libyaml when it was built with it and with its own Python scanner when
not, and the two disagree on corners of the language: of yaml-test-suite's 402 cases, 28
gave a value with one and a refusal with the other (tabs as separators or after values,
directives, a tag followed by a comma, a block scalar header followed by a comment without
a space, ``?`` inside a flow collection's plain scalar, an empty value written ``:,``, a
bare ``!``). A file's meaning must not depend on how PyYAML was installed, so those
constructs are refused with either scanner, at their place, saying how to write them.

A cheap pattern picks the files that may hold one (most hold none); only those are
scanned for tokens here. A file the scanner itself refuses is left to the parser, which
reports it as ``yaml-syntax`` with either scanner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml
from yaml.tokens import (
    DirectiveToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    ScalarToken,
    TagToken,
    Token,
    ValueToken,
)

from .._errors import Diagnostic, Place

_MAYBE = re.compile(
    r"\t|^%|![^\s]*[\[\]{},]|(?:^|[\s\[{,])!(?=[\s,\]}:#]|$)|[|>][-+0-9]*#|:[,\]}]"
    r"|\\[uU]|.\ufeff",
    re.M | re.S,
)
# An escape of a UTF-16 surrogate or past U+10FFFF: libyaml refuses it, PyYAML's scanner
# makes a lone surrogate of the first and fails inside chr() on the second.
_BAD_ESCAPE = re.compile(
    r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\U(?!0010|000)[0-9a-fA-F]{8}"
    r"|\\U0000[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _may_hold_one(text: str) -> bool:
    """Whether ``_MAYBE`` may match: a check of the characters each of its branches needs
    (C substring scans: the pattern itself took ~90 µs a file, a tenth of validate)."""
    if any(c in text for c in "\t%!\\") or ":," in text or ":]" in text or ":}" in text:
        return _MAYBE.search(text) is not None
    if "#" in text and _HEADER_COMMENT.search(text) is not None:
        return True
    return text.find("\ufeff", 1) != -1


def problem(text: str, file: str, loader: type[Any]) -> Diagnostic | None:
    """The first construct of ``text`` that libyaml and PyYAML's own scanner read
    differently, or None."""
    if not _may_hold_one(text) and not ("?" in text and ("[" in text or "{" in text)):
        return None
    bom = text.find("\ufeff", 1)
    if bom != -1:  # libyaml reads one between documents, PyYAML's scanner as text
        return _at(file, text, bom, "a byte order mark inside the file", "remove it")
    escape = _BAD_ESCAPE.search(text)
    if escape is not None:
        return _at(
            file,
            text,
            escape.start(),
            f"the escape {escape.group()} is not a character",
            "write the character itself, or one below U+10FFFF that is not a surrogate",
        )
    try:  # token by token: a list of a file's tokens held 1 KB a token
        return _first(text, file, yaml.scan(text, Loader=loader))
    except (yaml.YAMLError, ValueError, OverflowError):
        return None  # the parser reports it


def _at(file: str, text: str, index: int, message: str, hint: str) -> Diagnostic:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return Diagnostic.at("yaml-syntax", message, Place(file, line, column), hint=hint)


def _first(text: str, file: str, tokens: Iterable[Token]) -> Diagnostic | None:
    flow = 0
    end = 0  # where the previous token ended: the text between two tokens is a gap
    previous: Token | None = None
    for token in tokens:
        start = token.start_mark.index
        tab = _gap_tab(text, end, start)
        if tab is not None:
            return _tab(file, text, tab)
        if isinstance(token, DirectiveToken) and "\t" in text[start : token.end_mark.index]:
            return _tab(file, text, text.index("\t", start))
        if isinstance(token, DirectiveToken) and not _known_directive(text, token):
            return _at(
                file,
                text,
                start,
                f"the directive %{token.name} is not one both YAML scanners read alike",
                "remove the line (provider files need no directives), or write %YAML 1.2",
            )
        if isinstance(token, (FlowSequenceStartToken, FlowMappingStartToken)):
            flow += 1
        elif isinstance(token, (FlowSequenceEndToken, FlowMappingEndToken)):
            flow = max(flow - 1, 0)
        elif isinstance(token, TagToken):
            found = _tag(file, text, token)
            if found is not None:
                return found
        elif (
            isinstance(token, ValueToken)
            and flow
            and _next(text, token) in (",", "]", "}")
            and isinstance(previous, ScalarToken)
            and previous.plain
        ):
            return _at(
                file,
                text,
                start,
                "an empty value written as `:` directly followed by a comma or bracket",
                "write the value (or null) after `: `",
            )
        elif isinstance(token, ScalarToken):
            found = _scalar(file, text, token, flow > 0)
            if found is not None:
                return found
        end = max(end, token.end_mark.index)
        previous = token
    return None


def _known_directive(text: str, token: DirectiveToken) -> bool:
    """``%YAML 1.1``, ``%YAML 1.2`` or ``%TAG``, ending its line (a comment after a space)."""
    known = token.name == "TAG" or (token.name == "YAML" and token.value in ((1, 1), (1, 2)))
    return known and _next(text, token) in ("", " ", "\n", "\r")


def _next(text: str, token: Token) -> str:
    return text[token.end_mark.index : token.end_mark.index + 1]


def _gap_tab(text: str, start: int, stop: int) -> int | None:
    """A tab between two tokens, outside a comment."""
    at = text.find("\t", start, stop)
    while at != -1:
        line_start = max(text.rfind("\n", start, at) + 1, start)
        if "#" not in text[line_start:at]:
            return at
        at = text.find("\t", at + 1, stop)
    return None


def _indentation_tab(text: str, start: int, stop: int) -> int | None:
    """A tab in a block scalar's lines up to its first line of content, before that
    content: where its indentation is still being found (libyaml refuses it, PyYAML's
    scanner reads it as content). Tabs after that are content to both."""
    line = text.find("\n", start, stop)
    while line != -1:
        begin = line + 1
        body = begin
        while body < stop and text[body] in " \t":
            body += 1
        tab = text.find("\t", begin, body)
        if tab != -1:
            return tab
        if body < stop and text[body] not in "\r\n":
            return None  # the first line of content: the indentation is found
        line = text.find("\n", begin, stop)
    return None


def _tab(file: str, text: str, index: int) -> Diagnostic:
    return _at(
        file,
        text,
        index,
        "a tab character outside a quoted string",
        "use spaces; a tab in a value goes inside double quotes, written \\t",
    )


def _tag(file: str, text: str, token: TagToken) -> Diagnostic | None:
    handle, suffix = token.value
    spelled = (handle or "") + suffix
    if any(c in spelled for c in "[]{},") or _next(text, token) == ",":
        return _at(
            file, text, token.start_mark.index, "a tag holding or directly followed by a "
            "bracket or comma", "put a space after the tag, or remove the tag",
        )
    if handle is None and suffix == "!":  # one reads an empty value as "", one as null
        return _at(
            file, text, token.start_mark.index, "the non-specific tag `!`",
            "remove the `!` (quote the value to make it a string)",
        )
    return None


def _scalar(file: str, text: str, token: ScalarToken, in_flow: bool) -> Diagnostic | None:
    start, stop = token.start_mark.index, token.end_mark.index
    if token.style in ("|", ">"):
        if _HEADER_COMMENT.match(text, start):
            return _at(
                file, text, start, "a comment right after a block scalar's header",
                "put a space before the `#`",
            )
        line_end = text.find("\n", start, stop)
        header = text[start : line_end if line_end != -1 else stop]
        explicit = any(c.isdigit() for c in header)  # an indentation indicator: no doubt
        tab = None if explicit else _indentation_tab(text, start, stop)
        if tab is not None:
            return _tab(file, text, tab)
    elif token.plain:
        tab = text.find("\t", start, stop)
        if tab != -1:
            return _tab(file, text, tab)
        if in_flow and "?" in token.value:
            return _at(
                file, text, start, "a `?` in an unquoted value inside [ ] or { }",
                "quote the value",
            )
    return None

