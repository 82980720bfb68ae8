"""ServiceOptions: one object for what every load of a service shares, the keywords as
before, a keyword given winning over its field, and nothing secret in its repr."""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import textwrap
from pathlib import Path
from typing import Any

import pytest

import flue_decl
from flue_decl import ResolveError, ServiceOptions, load_artifact, load_registry
from flue_decl.cli import main


def tree(root: Path) -> Path:
    root.mkdir()
    for name in ("a", "b"):
        (root / f"{name}.yaml").write_text(
            textwrap.dedent(
                f"""\
                kind: Provider
                id: {name}
                api: openai-completions
                baseUrl: https://{name}.example.com/v1
                apiKey: "{{{{ env.KEY_{name.upper()} }}}}"
                models:
                  m: {{maxTokens: 1}}
                """
            )
        )
    return root


def test_every_load_takes_the_same_options(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    artifact = tmp_path / "registry.json"
    assert main(["compile", "--isolated", str(root), "-o", str(artifact)]) == 0
    options = ServiceOptions(env={"KEY_A": "ka-CANARY"}, providers=["a"], import_handlers=False)
    loaded = [
        load_registry(str(root), options=options),
        load_artifact(artifact, options=options),
        flue_decl.watch(str(root), options=options, interval=3600).registry,
    ]
    for registry in loaded:
        assert registry.api_key("a/m") == "ka-CANARY"
        with pytest.raises(ResolveError, match="not one this registry was loaded for"):
            registry.resolve_model("b/m")  # only a: KEY_B was never needed


def test_a_keyword_given_wins_over_the_field(tmp_path: Path) -> None:
    root = tree(tmp_path / "providers.d")
    options = ServiceOptions(env={"KEY_A": "from-options"}, providers=["a"])
    registry = load_registry(str(root), options=options, env={"KEY_A": "from-keyword"})
    assert registry.api_key("a/m") == "from-keyword"
    # Keywords left out (None) keep the options' fields.
    assert load_registry(str(root), options=options, env=None).api_key("a/m") == "from-options"


def test_its_repr_shows_no_value_of_the_environment_nor_the_key() -> None:
    options = ServiceOptions(
        env={"OPENAI_API_KEY": "sk-CANARY", "HOME": "/root"},
        verify_key="artifact-key-CANARY",
        providers=iter(["openai"]),  # a generator is read once, here
        handler_modules=["myapp.protocols"],
    )
    shown = repr(options)
    assert "CANARY" not in shown
    assert "OPENAI_API_KEY" not in shown
    assert "<2 variables>" in shown
    assert "providers=('openai',)" in shown
    assert "CANARY" not in repr(copy.copy(options))
    assert options.merged(secrets_dir="/s").providers == ("openai",)


@pytest.mark.parametrize("field", ["providers", "handler_modules", "known_providers"])
def test_a_string_where_a_list_belongs_is_refused(field: str) -> None:
    given: dict[str, Any] = {field: "openai"}
    with pytest.raises(TypeError, match="not a string"):
        ServiceOptions(**given)
    given = {field: [1]}
    with pytest.raises(TypeError, match="strings"):
        ServiceOptions(**given)


def test_nothing_copies_its_credentials_out() -> None:
    options = ServiceOptions(env={"K": "sk-CANARY"}, verify_key="vk-CANARY", bindings={"AI": 2})
    assert not dataclasses.is_dataclass(options)  # asdict/astuple would copy them out
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(options)
    assert copy.deepcopy(options) is options  # immutable
    with pytest.raises(AttributeError):
        options.env = {}
    assert "CANARY" not in repr(options)
    assert hash(ServiceOptions(env=os.environ)) is not None  # hashable whatever it holds


def test_import_handlers_none_is_the_default_not_off() -> None:
    assert ServiceOptions(import_handlers=None).import_handlers is True
    off = ServiceOptions(import_handlers=False)
    assert off.merged(import_handlers=None).import_handlers is False  # None: not given
