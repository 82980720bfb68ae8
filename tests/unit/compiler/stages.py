"""Documents for the compile stages' unit tests: YAML text through the real parser and
layering, each stage then called directly on what it receives in the pipeline."""

from __future__ import annotations

import textwrap

from flue_decl._discover import SourceFile
from flue_decl.compiler._layer import Entity, layer
from flue_decl.compiler._parse import Document, parse_text


def entities(*files: str) -> tuple[Entity, ...]:
    """The entities of ``files`` (YAML texts, one file each, in order), parsed and layered."""
    documents: list[Document] = []
    for index, text in enumerate(files):
        parsed = parse_text(textwrap.dedent(text).lstrip("\n"), SourceFile(f"f{index}.yaml", 0))
        assert not parsed.diagnostics, parsed.diagnostics
        documents.extend(parsed.documents)
    layered = layer(documents)
    assert not layered.diagnostics, layered.diagnostics
    return layered.entities


def entity(text: str) -> Entity:
    (only,) = entities(text)
    return only
