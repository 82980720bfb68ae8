"""No value of the environment, and no key, in the frames of an error flue-decl raises.

Error reporters that capture locals (Sentry, ``TracebackException(capture_locals=True)``)
send every frame's variables: each refusal path is formatted so, with its chain, and must
show no planted value, credential or not.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flue_decl
from flue_decl import FlueDeclError, Registry, load_artifact, load_registry
from flue_decl.runtime import build_registry

PLANTED = "planted-CANARY-value"
ENV = {"PLANTED_VAR": PLANTED, "P_KEY": f"key-{PLANTED}", "DB_PASSWORD": f"db-{PLANTED}"}
# Module-level, as the caller's own frames are theirs to keep clean: only flue-decl's
# frames (and the arguments they were given) are in question.
INSECURE = {**ENV, "P_URL": "http://203.0.113.9/v1"}
TREE = (
    "kind: Provider\nid: p\napi: openai-completions\n"
    'baseUrl: "{{ env.P_URL }}"\napiKey: "{{ env.P_KEY }}"\n'
    'headers: {X-Planted: "{{ env.PLANTED_VAR }}"}\nmodels: {m: {}}\n'
)


def formatted(error: BaseException) -> str:
    return "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )


def refusal(call: Callable[[], Any]) -> FlueDeclError:
    with pytest.raises(FlueDeclError) as info:
        call()
    return info.value


def tree(tmp_path: Path, text: str = TREE) -> str:
    (tmp_path / "providers.d").mkdir(exist_ok=True)
    (tmp_path / "providers.d" / "a.yaml").write_text(text)
    return str(tmp_path / "providers.d")


def paths(tmp_path: Path) -> dict[str, Callable[[], Any]]:
    root = tree(tmp_path)
    compiled = flue_decl.compile_paths([root])
    artifact = tmp_path / "registry.json"
    artifact.write_text(flue_decl.runtime.artifact_text(compiled.calls, layers=[root], files=[]))
    keyed = Registry(env=ENV)
    keyed.register_provider(
        "q", {"api": "openai-completions", "baseUrl": "http://203.0.113.9", "apiKey": PLANTED}
    )
    return {
        "load_registry: missing variable": lambda: load_registry(root, env=ENV),
        "load_registry: insecure transport": lambda: load_registry(root, env=INSECURE),
        "build_registry": lambda: build_registry(compiled.calls, env=ENV),
        "load_artifact": lambda: load_artifact(str(artifact), env=ENV),
        "http_client: insecure": lambda: keyed.http_client("q/m"),
        "openai_kwargs: insecure": lambda: keyed.openai_kwargs("q/m"),
        "resolve_model": lambda: keyed.resolve_model("nope/x"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "load_registry: missing variable",
        "load_registry: insecure transport",
        "build_registry",
        "load_artifact",
        "http_client: insecure",
        "openai_kwargs: insecure",
        "resolve_model",
    ],
)
def test_no_refusal_carries_a_planted_value_in_its_frames(tmp_path: Path, name: str) -> None:
    error = refusal(paths(tmp_path)[name])
    text = formatted(error)
    assert PLANTED not in text, text[text.find(PLANTED) - 300 : text.find(PLANTED) + 50]
    assert error.__cause__ is None
    assert error.__context__ is None
    assert error.diagnostics  # what it says is all there


def test_a_watchs_last_error_holds_diagnostics_only(tmp_path: Path) -> None:
    root = tree(tmp_path, TREE.replace("{{ env.P_URL }}", "https://p.example/v1"))
    live = flue_decl.watch(root, env=ENV, interval=3600)
    (Path(root) / "a.yaml").write_text(TREE.replace("{{ env.P_URL }}", "http://203.0.113.9"))
    for _ in range(3):
        live.poll_once()
        time.sleep(0.01)
    error = live.snapshot().last_error
    assert error is not None
    assert error.__traceback__ is None
    assert PLANTED not in formatted(error) + json.dumps([str(d) for d in error.diagnostics])


def test_a_misuse_keeps_where_it_happened_and_loses_what_the_frames_held() -> None:
    """A TypeError from a client helper (an argument flue-decl sets itself) keeps its
    traceback's lines, with no frame's variables: the key was in one."""
    registry = Registry(env={})
    registry.register_provider(
        "p", {"api": "openai-completions", "baseUrl": "https://p.example", "apiKey": PLANTED}
    )
    with pytest.raises(TypeError) as info:
        registry.http_client("p/m", headers={})
    text = formatted(info.value)
    assert PLANTED not in text
    assert "_clients.py" in text  # where it happened is still there


def test_validate_output_never_shows_a_key_written_on_its_own_line(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    tree(
        tmp_path,
        "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: https://p.example\n"
        f"models: {{m: {{}}}}\napiKey:\n  {PLANTED}\n"
        f"headers:\n  Authorization:\n    Bearer {PLANTED}\n"
        f"---\nkind: Provider\nid: q\napi: openai-completions\nbaseUrl: https://q.example\n"
        "apiKey: 123456789012345\n",
    )
    result = run_cli("validate", cwd=tmp_path)
    assert PLANTED not in result.stdout + result.stderr
    assert "123456789012345" not in result.stdout + result.stderr


def test_a_looping_exception_chain_is_cleared_once_and_raised() -> None:
    from flue_decl._errors import frames_dropped

    @frames_dropped
    def fails() -> None:
        first, second = ValueError(PLANTED), KeyError("b")
        first.__context__, second.__context__ = second, first  # a chain that loops
        raise first

    with pytest.raises(ValueError, match="planted") as info:
        fails()
    assert "fails" in formatted(info.value)  # where stays
