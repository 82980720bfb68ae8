"""Which code a providers.d file may make a service import, and what an import may do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flue_decl import ValidationError, load_registry
from tests.helpers import REPO, write_files

PWN = {
    "providers.d/10-a.yaml": """
        kind: ApiProvider
        api: rpc
        handler: unittest.__main__:main
    """,
    # What unittest discovery would import from the working directory.
    "test_pwn.py": """
        import pathlib
        pathlib.Path("marker").write_text("ran")
    """,
}


def _load_in_child(
    cwd: Path, handler_modules: list[str] | None
) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import flue_decl
        try:
            flue_decl.load_registry(["providers.d"], env={{}}, handler_modules={handler_modules!r})
        except flue_decl.ConfigError as exc:
            for d in exc.diagnostics:
                print(d.code, d.line, d.message)
        print("still running")
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
    )


@pytest.mark.parametrize("handler_modules", [None, [], ["acme_llm"]])
def test_a_handler_outside_the_allow_list_is_never_imported(
    tmp_path: Path, handler_modules: list[str] | None
) -> None:
    write_files(tmp_path, PWN)
    result = _load_in_child(tmp_path, handler_modules)
    assert result.stdout.splitlines()[0].startswith("handler-not-allowed 3 ")
    assert result.stdout.splitlines()[-1] == "still running"
    assert not (tmp_path / "marker").exists()


def test_a_handler_that_exits_is_an_error_not_an_exit(tmp_path: Path) -> None:
    write_files(tmp_path, PWN)
    result = _load_in_child(tmp_path, ["unittest"])  # allowed by mistake: contained still
    lines = result.stdout.splitlines()
    assert lines[0].startswith("handler-import 3 "), result.stdout + result.stderr
    assert "SystemExit" in lines[0]
    assert lines[-1] == "still running"


def test_the_allow_list_comes_from_the_environment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "examples"))
    write_files(
        tmp_path,
        {"p.yaml": "kind: ApiProvider\napi: acme-rpc\nhandler: acme_llm.protocols:AcmeRpc\n"},
    )
    monkeypatch.setenv("FLUE_DECL_HANDLER_MODULES", " other, acme_llm ")
    assert "acme-rpc" in load_registry([str(tmp_path)], env={}).api_providers()
    monkeypatch.setenv("FLUE_DECL_HANDLER_MODULES", "acme")  # a prefix of names, not text
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path)], env={})
    assert info.value.diagnostics[0].code == "handler-not-allowed"
    # An explicit list wins over the variable.
    registry = load_registry([str(tmp_path)], env={}, handler_modules=["acme_llm.protocols"])
    assert "acme-rpc" in registry.api_providers()


def test_a_handler_must_implement_the_wire_protocol(tmp_path: Path) -> None:
    write_files(tmp_path, {"p.yaml": "kind: ApiProvider\napi: j\nhandler: json:dumps\n"})
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path)], env={}, handler_modules=["json"])
    (diag,) = info.value.diagnostics
    assert diag.code == "handler-import"
    assert "WireProtocol" in diag.message


def test_a_module_is_imported_once_per_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(
        tmp_path,
        {
            "lib/flaky_handlers.py": """
                import pathlib
                counter = pathlib.Path(__file__).with_name("count")
                before = int(counter.read_text()) if counter.exists() else 0
                counter.write_text(str(before + 1))
                raise RuntimeError("cannot start")
            """,
            "tree/p.yaml": """
                kind: ApiProvider
                api: a
                handler: flaky_handlers:A
                ---
                kind: ApiProvider
                api: b
                handler: flaky_handlers:B
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path / "tree")], env={}, handler_modules=["flaky_handlers"])
    assert [d.code for d in info.value.diagnostics] == ["handler-import", "handler-import"]
    assert all("RuntimeError: cannot start" in d.message for d in info.value.diagnostics)
    assert (tmp_path / "lib" / "count").read_text() == "1"


SOCKETS = {
    "lib/socket_protocols.py": """
        class OverWebSocket:
            url_schemes = ("wss", "unix")

            @staticmethod
            def auth_headers(api_key):
                return {"X-Key": api_key} if api_key else {}


        class HttpOnly:
            @staticmethod
            def auth_headers(api_key):
                return {}
    """,
    "tree/10-apis.yaml": """
        kind: ApiProvider
        api: ws-rpc
        handler: socket_protocols:OverWebSocket
        ---
        kind: ApiProvider
        api: http-rpc
        handler: socket_protocols:HttpOnly
    """,
    "tree/20-providers.yaml": """
        kind: Provider
        id: live
        api: ws-rpc
        baseUrl: wss://rpc.example/stream
        ---
        kind: Provider
        id: local
        api: ws-rpc
        baseUrl: /run/acme/rpc.sock
    """,
}


def test_a_custom_protocol_may_use_the_schemes_its_handler_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flue_decl import ClientError, compile_paths

    write_files(tmp_path, SOCKETS)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    tree = str(tmp_path / "tree")
    assert compile_paths([tree]).diagnostics == ()  # validate cannot know: it accepts
    registry = load_registry([tree], env={}, handler_modules=["socket_protocols"])
    assert registry.resolve_model("live/m").base_url == "wss://rpc.example/stream"
    assert registry.resolve_model("local/m").base_url == "/run/acme/rpc.sock"
    with pytest.raises(ClientError) as info:  # the handler speaks it, not httpx
        registry.http_client("live/m")
    assert info.value.diagnostics[0].code == "client-unsupported"
    # A handler that declares nothing takes http(s) only: refused at load, at the URL.
    (tmp_path / "tree" / "30-more.yaml").write_text(
        "kind: Provider\nid: other\napi: http-rpc\nbaseUrl: wss://rpc.example/x\n"
    )
    with pytest.raises(ValidationError) as refused:
        load_registry([tree], env={}, handler_modules=["socket_protocols"])
    (diag,) = refused.value.diagnostics
    assert (diag.code, Path(diag.file or "").name, diag.line) == ("invalid-url", "30-more.yaml", 4)
    assert "url_schemes: http, https" in diag.message
    # A built-in API still needs an http(s) URL at validate.
    (tmp_path / "tree" / "30-more.yaml").write_text(
        "kind: Provider\nid: other\napi: openai-completions\nbaseUrl: wss://rpc.example/x\n"
    )
    assert [d.code for d in compile_paths([tree]).diagnostics] == ["invalid-url"]


TRAPS = """
class Exits:
    def __getattr__(self, name):
        raise SystemExit("from __getattr__")
exits = Exits()

class BadSchemes:
    def auth_headers(self, key):
        return {}
    url_schemes = 5
bad_schemes = BadSchemes()

class ExitingSchemes:
    def auth_headers(self, key):
        return {}
    @property
    def url_schemes(self):
        raise SystemExit(3)
exiting_schemes = ExitingSchemes()

class Good:
    @staticmethod
    def auth_headers(key):
        return {}

import json as other_module
"""


@pytest.mark.parametrize(
    ("attribute", "said"),
    [
        ("exits", "SystemExit"),
        ("bad_schemes", "url_schemes is not a collection"),
        ("exiting_schemes", "SystemExit"),
        ("Good.__init__.__globals__", "private name"),
        ("other_module.JSONDecoder", "is a module"),
    ],
)
def test_whatever_a_handler_object_does_is_a_handler_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attribute: str, said: str
) -> None:
    write_files(
        tmp_path,
        {
            "lib/traps.py": TRAPS,
            "tree/a.yaml": f"kind: ApiProvider\napi: rpc\nhandler: traps:{attribute}\n---\n"
            "kind: Provider\nid: p\napi: rpc\nbaseUrl: https://x.example/v1\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    with pytest.raises(ValidationError) as info:
        load_registry([str(tmp_path / "tree")], env={}, handler_modules=["traps"])
    (diag,) = info.value.diagnostics
    assert diag.code == "handler-import"
    assert said in diag.message


def test_handler_modules_is_a_list_not_a_string(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.yaml": "kind: ApiProvider\napi: rpc\nhandler: m:X\n"})
    with pytest.raises(TypeError, match="not a string"):
        load_registry([str(tmp_path)], env={}, handler_modules="acme_llm")
