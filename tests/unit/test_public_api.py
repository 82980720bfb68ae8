"""The public surface: exactly the curated names, each documented, and no silent drift."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest

import flue_decl
from flue_decl import (
    ClientError,
    ConfigError,
    InputError,
    TemplateError,
    ValidationError,
    load_registry,
)
from tests.helpers import REPO, write_files

PUBLIC = [
    "PI_APIS",
    "Call",
    "Catalog",
    "ClientError",
    "Compilation",
    "ConfigError",
    "CrossOriginRequestError",
    "Diagnostic",
    "FlueDeclError",
    "InputError",
    "Model",
    "Op",
    "Origin",
    "Place",
    "Registry",
    "ReloadError",
    "ResolveError",
    "Secret",
    "ServiceOptions",
    "SettingsError",
    "Severity",
    "Snapshot",
    "TemplateError",
    "ValidationError",
    "Watch",
    "WireProtocol",
    "__version__",
    "builtin_catalog",
    "bundled_schema",
    "compile_paths",
    "load_artifact",
    "load_registry",
    "watch",
]


def test_public_names_are_exactly_the_curated_list() -> None:
    assert sorted(flue_decl.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(flue_decl, name)
    # everything else lives in private modules
    assert not [
        n
        for n in vars(flue_decl)
        if not n.startswith("_")
        and n not in PUBLIC
        and not isinstance(getattr(flue_decl, n), type(sys))
    ]


def test_error_hierarchy_has_one_base() -> None:
    for cls in (InputError, ValidationError, TemplateError, flue_decl.ReloadError):
        assert issubclass(cls, ConfigError)
    assert issubclass(flue_decl.SettingsError, InputError)  # exit 2, as a missing path
    # What a request raises is not a refused tree: `except ConfigError` around loading
    # does not catch a bad specifier later.
    for sibling in (ConfigError, flue_decl.ResolveError, flue_decl.ClientError):
        assert sibling.__bases__ == (flue_decl.FlueDeclError,)
    assert not issubclass(flue_decl.ResolveError, ConfigError)
    assert not issubclass(flue_decl.ClientError, ConfigError)


PACKAGES = ["flue_decl", "flue_decl.compiler", "flue_decl.runtime", "flue_decl.views"]


@pytest.mark.parametrize("package", [*PACKAGES, "flue_decl.templates", "flue_decl.cli"])
def test_every_public_entry_point_says_what_it_does(package: str) -> None:
    module = importlib.import_module(package)
    assert inspect.getdoc(module)
    undocumented = []
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not inspect.getdoc(value) or value.__doc__ is None:
            undocumented.append(name)
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                if attr.startswith("_") or not (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    continue
                if not inspect.getdoc(member) and attr not in OBVIOUS:
                    undocumented.append(f"{name}.{attr}")
    assert not undocumented


# Accessors whose name says all there is to say.
OBVIOUS = {
    "id",
    "name",
    "api",
    "provider",
    "base_url",
    "reasoning",
    "input",
    "cost",
    "context_window",
    "max_tokens",
    "headers",
    "spec",
    "kind",
    "errors",
    "ok",
    "registry",
    "generation",
    "last_reload_ok",
    "last_success_time",
    "last_error",
    "snapshot",
    "start",
    "stop",
    "registered_providers",
    "configured_providers",
    "api_providers",
    "catalog",
    "reveal",
    "code",
    "location",
    "sort_key",
    "at",
    "models",
    "get_model",
    "api_key_env",
    "where",
    "to_json",
    "equal",
    "providers",
    "input_failed",
    "calls",
    "fingerprint",
}


@pytest.fixture
def example_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO / "examples"))


@pytest.mark.usefixtures("example_handlers")
def test_the_readme_python_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a")
    monkeypatch.setenv("OPENROUTER_API_KEY", "o")
    monkeypatch.setenv("ACME_API_KEY", "k")
    monkeypatch.setenv("OLLAMA_API_KEY", "")
    registry = load_registry(["providers.d"], handler_modules=["acme_llm"])
    model = registry.resolve_model("ollama/llama3.1:8b")
    assert model.to_dict()["contextWindow"] == 131072
    assert registry.api_key("ollama/llama3.1:8b") == ""
    assert registry.api_key("acme/anything") == "k"
    handler = registry.api_providers()["acme-rpc"]
    assert handler.__name__ == "AcmeRpc"  # imported at load time


def test_handler_that_does_not_import_is_a_config_error_with_its_place(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": """
        kind: ApiProvider
        api: ghost
        handler: no_such_package.mod:Thing
    """
        },
    )
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path)], env={}, handler_modules=["no_such_package"])
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line, diag.column) == ("handler-import", 3, 10)
    assert load_registry([str(tmp_path)], env={}, import_handlers=False).api_providers() == {
        "ghost": "no_such_package.mod:Thing"
    }


def test_load_registry_raises_every_problem(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.yaml": "kind: Nope\n", "b.yaml": "kind: Provider\nid: x\n"})
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path)], env={})
    assert [
        (d.code, d.message.split("`")[1] if d.code == "missing-key" else None)
        for d in info.value.diagnostics
    ] == [("unknown-kind", None), ("missing-key", "api"), ("missing-key", "baseUrl")]
    with pytest.raises(InputError):
        load_registry([str(tmp_path / "missing")], env={})


@pytest.mark.usefixtures("example_handlers")
def test_cloudflare_binding_objects_are_handed_out_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeWorkersAI:
        def run(self, model: str, inputs: dict[str, object]) -> dict[str, object]:
            return {"model": model}

    binding = FakeWorkersAI()
    env = {"ANTHROPIC_API_KEY": "a", "OPENROUTER_API_KEY": "o", "ACME_API_KEY": "k"}
    registry = load_registry(
        [str(REPO / "providers.d")], env=env, bindings={"AI": binding}, handler_modules=["acme_llm"]
    )
    spec = "cloudflare/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert registry.binding(spec) is binding
    model = registry.resolve_model(spec).to_dict()
    assert (model["binding"], model["gateway"]["id"]) == ("AI", "production-agent-traffic")
    with pytest.raises(ClientError, match="not a Cloudflare binding"):
        registry.binding("ollama/llama3.1:8b")
    misnamed = load_registry(
        [str(REPO / "providers.d")], env=env, bindings={"A1": binding}, handler_modules=["acme_llm"]
    )
    with pytest.raises(ClientError) as info:
        misnamed.binding(spec)
    assert "no binding object named `AI` was passed in (bindings: A1)" in str(info.value)


def test_did_you_mean_names_the_closest_ids_whatever_their_case() -> None:
    from flue_decl._errors import did_you_mean

    assert did_you_mean("opnai", ["openai", "anthropic"]) == "did you mean `openai`?"
    assert did_you_mean("OpenAI", ["openai"]) == "did you mean `openai`?"
    assert did_you_mean("GPT-4O-MNI", ["gpt-4o-mini", "gpt-4o", "o3"], prefix="openai/") == (
        "did you mean `openai/gpt-4o-mini` or `openai/gpt-4o`?"
    )
    assert did_you_mean("opnai", ["openai"], suffix="/gpt-4o") == "did you mean `openai/gpt-4o`?"
    assert did_you_mean("xyz", ["openai"]) is None
