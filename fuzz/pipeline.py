"""One fuzz step shared by the hypothesis tests and the atheris target: the whole pipeline on
some bytes, where the only acceptable failure is flue-decl's own error type (FlueDeclError)."""

from __future__ import annotations

import os
import tempfile

from flue_decl import FlueDeclError, compile_paths
from flue_decl.runtime import build_registry, render_calls

ENV = {"A": "x", "URL": "https://u.example", "KEY": "k\nv", "EMPTY": ""}
SPECS = ("x/m", "ollama/llama3.1:8b", "openai/gpt-4o", "anthropic/", "nope", "cf/@cf/x")


def run_pipeline(data: bytes, workdir: str | None = None) -> None:
    """compile → render → registry → resolve; raises only on a flue-decl bug."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = os.path.join(tmp, "fuzz.yaml")
        with open(path, "wb") as fh:
            fh.write(data)
        compilation = compile_paths([path])
        for diagnostic in compilation.diagnostics:
            assert diagnostic.code
            assert diagnostic.message
        if not compilation.ok:
            return
        _, problems = render_calls(compilation.calls, ENV)
        if problems:
            return
        registry = build_registry(compilation.calls, env=ENV, import_handlers=False)
        for spec in SPECS:
            try:
                registry.resolve_model(spec).to_dict()
                registry.api_key(spec)
                registry.store_responses(spec)
            except FlueDeclError:  # a specifier that does not resolve: fine
                pass
