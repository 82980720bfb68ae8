"""A service loads only the providers it uses, and needs only their secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from flue_decl import (
    ResolveError,
    TemplateError,
    ValidationError,
    load_artifact,
    load_registry,
    watch,
)
from tests.helpers import REPO, run_cli

TREE = [str(REPO / "providers.d")]


def test_a_service_gets_only_its_providers_and_needs_only_their_variables() -> None:
    with pytest.raises(TemplateError):  # the whole tree needs every key
        load_registry(TREE, env={}, handler_modules=["acme_llm"])
    registry = load_registry(TREE, env={}, providers=["ollama"])
    assert registry.resolve_model("ollama/llama3.1:8b").context_window == 131072
    assert registry.registered_providers() == ("ollama",)
    with pytest.raises(ResolveError, match="not one this registry was loaded for"):
        registry.resolve_model("anthropic/claude-sonnet-4-5")  # would miss its gateway
    with pytest.raises(TemplateError) as info:  # anthropic's key: its own, and only it
        load_registry(TREE, env={}, providers=["ollama", "anthropic"])
    assert {d.message.split("`")[1] for d in info.value.diagnostics} == {"ANTHROPIC_API_KEY"}


def test_a_custom_protocol_comes_with_its_provider_only() -> None:
    # No handler list is needed when no selected provider speaks the custom protocol.
    load_registry(TREE, env={}, providers=["openai"])
    with pytest.raises(ValidationError) as info:
        load_registry(TREE, env={"ACME_API_KEY": "k"}, providers=["acme"])
    assert [d.code for d in info.value.diagnostics] == ["handler-not-allowed"]


def test_an_undeclared_provider_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ValidationError) as info:
        load_registry(TREE, env={}, providers=["olama"])
    (diag,) = info.value.diagnostics
    assert diag.code == "unknown-provider"
    assert diag.hint == "did you mean `ollama`?"
    load_registry(TREE, env={}, providers=["groq"])  # built in: fine, nothing to render


def test_artifacts_and_watch_take_the_selection_too(tmp_path: Path) -> None:
    artifact = tmp_path / "registry.json"
    assert run_cli("compile", "-o", str(artifact)).returncode == 0
    registry = load_artifact(artifact, env={}, providers=["ollama"])
    assert registry.registered_providers() == ("ollama",)
    live = watch(TREE, env={}, providers=["ollama"])
    assert live.registry.registered_providers() == ("ollama",)


def test_commands_about_one_provider_need_only_its_variables(tmp_path: Path) -> None:
    env: dict[str, str] = {}  # run_cli passes no *_API_KEY of this machine
    assert run_cli("explain", "ollama/llama3.1:8b", env=env).returncode == 0
    assert run_cli("resolve", "ollama/llama3.1:8b", "groq/x", env=env).returncode == 1  # groq/x
    result = run_cli("check-env", "--provider", "ollama", env=env)
    assert result.returncode == 0, result.stdout
    result = run_cli("check-env", "--provider", "ollama", "--provider", "acme", env=env)
    assert result.returncode == 1
    assert "ACME_API_KEY" in result.stdout
    assert "ANTHROPIC" not in result.stdout
    result = run_cli("probe", "--provider", "olama", env=env)
    assert result.returncode == 1
    assert "did you mean `ollama`?" in result.stderr


def test_odd_selections_are_refused_or_read_once() -> None:
    with pytest.raises(TypeError, match="not a string"):
        load_registry(TREE, env={}, providers="ollama")
    with pytest.raises(TypeError, match="provider IDs"):
        load_registry(TREE, env={}, providers=[None])  # type: ignore[list-item]
    registry = load_registry(TREE, env={}, providers=(p for p in ["ollama"]))
    assert registry.resolve_model("ollama/x").provider == "ollama"  # the generator, read once


def test_models_and_resolve_name_what_is_wrong(tmp_path: Path) -> None:
    result = run_cli("models", "--provider", "olama")
    assert result.returncode == 1
    assert "did you mean `ollama`?" in result.stderr
    missing = run_cli("resolve", "ollama/x", "typo.d")
    assert missing.returncode == 2
    assert "typo.d" in missing.stderr
