from __future__ import annotations

from pathlib import Path

import pytest

from flue_decl import TemplateError, compile_paths, load_registry
from flue_decl.templates import check_syntax, render
from tests.helpers import write_files


def test_env_lookup_and_default() -> None:
    assert render("{{ env.A }}", {"A": "x"}).value == "x"
    assert render("{{ env['A-B'] }}", {"A-B": "y"}).value == "y"
    assert render("{{ env.A | default('d') }}", {}).value == "d"
    assert render("{{ env.A | default('d') }}", {"A": ""}).value == ""
    assert render("http://{{ env.H }}:{{ env.P | default('80') }}/v1", {"H": "h"}).value == (
        "http://h:80/v1"
    )
    assert render("plain", {}).value == "plain"


def test_every_missing_variable_of_a_value_is_reported_at_once() -> None:
    result = render("{{ env.A }}-{{ env.B }}-{{ env.C | default('') }}-{{ env.D }}", {"B": "b"})
    assert result.value is None
    assert result.missing == ("A", "D")


def test_nothing_but_env_lookups_by_a_fixed_name() -> None:
    env = {"SECRET": "s3cret", "OTHER": "o"}
    for source in (
        "{{ range(3) }}",
        "{{ os }}",
        "{{ self }}",
        "{{ env }}",
        "{{ env.__class__.__mro__ }}",
        "{{ env._values }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ env[env.OTHER] }}",
    ):
        problem = check_syntax(source)
        assert problem is not None, source
        result = render(source, env)
        assert result.value is None
        assert result.problem == problem


def test_template_length_is_capped() -> None:
    problem = check_syntax("{{ env.A }}" + "x" * 5000)
    assert problem is not None
    assert problem.code == "template-too-long"


TREE = """
kind: Provider
id: p
api: openai-completions
baseUrl: "{{ env.P_URL }}"
apiKey: "{{ env.P_KEY }}"
headers: {X-A: "{{ env.P_HDR }}"}
---
kind: ProviderConfiguration
id: anthropic
apiKey: "{{ env.ANTHROPIC_GATEWAY_KEY }}"
"""


def test_load_reports_every_missing_variable_with_its_place(tmp_path: Path) -> None:
    write_files(tmp_path, {"p.yaml": TREE})
    with pytest.raises(TemplateError) as info:
        load_registry([str(tmp_path)], env={"P_KEY": "k"})
    found = [(d.code, d.line, d.message) for d in info.value.diagnostics]
    assert found == [
        ("missing-env", 4, "environment variable `P_URL` is not set"),
        ("missing-env", 6, "environment variable `P_HDR` is not set"),
        ("missing-env", 10, "environment variable `ANTHROPIC_GATEWAY_KEY` is not set"),
    ]


def test_validate_does_not_need_the_environment(tmp_path: Path) -> None:
    write_files(tmp_path, {"p.yaml": TREE})
    assert compile_paths([str(tmp_path)]).ok


def test_an_unreadable_rendered_url_is_reported_without_its_text(tmp_path: Path) -> None:
    write_files(tmp_path, {"p.yaml": TREE})
    for url in (
        "https://[SECRETHOST]/",
        "https://h.example:99999SECRETPORT/",
        "https://svc:SECRETPW@h.example/v1",
        "http://evil.example\\@localhost/SECRET",
    ):
        env = {"P_URL": url, "P_KEY": "k", "P_HDR": "h", "ANTHROPIC_GATEWAY_KEY": "k"}
        with pytest.raises(TemplateError) as info:
            load_registry([str(tmp_path)], env=env)
        assert [d.code for d in info.value.diagnostics] == ["invalid-url"]
        assert "SECRET" not in str(info.value) + repr(info.value.diagnostics)


def test_rendered_values_are_checked_like_literal_ones_without_showing_secrets(
    tmp_path: Path,
) -> None:
    write_files(tmp_path, {"p.yaml": TREE})
    env = {
        "P_URL": "not a url",
        "P_KEY": "line1\nline2-SECRET",
        "P_HDR": "ok",
        "ANTHROPIC_GATEWAY_KEY": "k",
    }
    with pytest.raises(TemplateError) as info:
        load_registry([str(tmp_path)], env=env)
    codes = [(d.code, d.line) for d in info.value.diagnostics]
    assert codes == [("invalid-url", 4), ("invalid-rendered-value", 5)]
    text = str(info.value) + repr(info.value.diagnostics)
    assert "SECRET" not in text
    assert "`P_KEY`" in info.value.diagnostics[1].message


def test_env_value_with_newline_cannot_rewrite_the_document(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": """
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: https://p.example
        headers: {X-A: "{{ env.V }}"}
    """
        },
    )
    registry = load_registry([str(tmp_path)], env={"V": "a: b\\nkind: ApiProvider"})
    assert registry.resolve_model("p/m").headers == {"X-A": "a: b\\nkind: ApiProvider"}


def test_templated_url_is_checked_for_key_transport_after_render(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "p.yaml": """
        kind: Provider
        id: p
        api: openai-completions
        baseUrl: "{{ env.URL }}"
        apiKey: "{{ env.KEY | default('') }}"
    """
        },
    )
    ok = load_registry([str(tmp_path)], env={"URL": "http://gpu.lan/v1"})  # no key: fine
    assert ok.api_key("p/m") == ""
    assert load_registry([str(tmp_path)], env={"URL": "http://127.0.0.2/v1", "KEY": "k"})
    with pytest.raises(TemplateError) as info:
        load_registry([str(tmp_path)], env={"URL": "http://gpu.lan/v1", "KEY": "k"})
    assert [d.code for d in info.value.diagnostics] == ["insecure-key-transport"]


def test_the_filters_a_value_needs_still_work() -> None:
    env = {"HOST": "Api.Example.com ", "PATH": "a b"}
    assert (
        render("https://{{ env.HOST | trim | lower }}/{{ env.PATH | urlencode }}", env).value
        == "https://api.example.com/a%20b"
    )
    assert (
        render("{{ env.X | d('y') | upper }}{{ env.HOST | replace(' ', '') }}", env).value
        == "YApi.Example.com"
    )
    assert render("{{ env.HOST if env.HOST is defined else 'none' }}", env).value == (
        "Api.Example.com "
    )
