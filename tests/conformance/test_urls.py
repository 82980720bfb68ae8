"""One reading of URLs and credential names in both languages: every input of the shared
corpora (WPT's URL tests, our adversarial URLs, credential names) goes through flue-decl's
Python and through the runtime every emitted module carries, run in node; validity, host,
the loopback decision, the refusal and its reason, the transport rule and the credential
decisions must be the same, with no disagreement at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flue_decl._secrets import is_credential_name, url_credentials
from flue_decl._urls import insecure_transport, is_loopback_host, read_url, url_problem
from flue_decl.compiler._emit import _runtime

from .oracle import ReplayServer

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "corpus"
WPT = [e["input"] for e in json.loads((CORPUS / "urltestdata.json").read_text()) if e != str(e)]
OURS = json.loads((CORPUS / "adversarial-urls.json").read_text())
NAMES = json.loads((CORPUS / "credential-names.json").read_text())

CHECK_ALL = """
export function checkAll(urls, names) {
  return {
    urls: urls.map((value) => {
      const url = $readUrl(value);
      return {
        valid: url !== undefined,
        hostname: url === undefined ? null : url.hostname,
        loopback: url === undefined ? null : $LOOPBACK.test(url.hostname),
        problem: $urlProblem(value, false) ?? null,
        custom: $urlProblem(value, true) ?? null,
        inClear: $inClear(value),
        credentials: $urlCredentials(value),
      };
    }),
    names: names.map((name) => $isCredentialName(name)),
  };
}
"""


def ours(value: str) -> dict[str, Any]:
    url = read_url(value)
    return {
        "valid": url is not None,
        "hostname": None if url is None else url.hostname,
        "loopback": None if url is None else is_loopback_host(url.hostname),
        "problem": url_problem(value),
        "custom": url_problem(value, any_scheme=True),
        "inClear": insecure_transport(value),
        "credentials": bool(url_credentials(value)),
    }


def test_python_and_the_emitted_module_read_every_url_and_name_alike(
    oracle: ReplayServer, workdir: Path
) -> None:
    module = workdir / "checks.mjs"
    module.write_text(_runtime() + CHECK_ALL, encoding="utf-8")
    urls = [*dict.fromkeys([*WPT, *OURS])]
    names = [name for name, _ in NAMES]
    answer = oracle.run({"kind": "check", "module": str(module), "urls": urls, "names": names})
    assert "checked" in answer, answer
    theirs = answer["checked"]
    disagreements = [
        (value, mine, js)
        for value, js in zip(urls, theirs["urls"], strict=True)
        if (mine := ours(value)) != js
    ]
    assert disagreements == [], f"{len(disagreements)} of {len(urls)}: {disagreements}"
    named = [(n, is_credential_name(n), js) for n, js in zip(names, theirs["names"], strict=True)]
    assert [d for d in named if d[1] != d[2]] == []
    assert [n for n, expected in NAMES if is_credential_name(n) != expected] == []
    assert len(urls) > 800  # the corpus was read


def test_the_corpus_says_what_the_transport_rule_is() -> None:
    loopback = {v for v in OURS if (u := read_url(v)) is not None and is_loopback_host(u.hostname)}
    for value in (
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://LOCALHOST/",
        "http://a.b.localhost./",
        "http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/",
    ):
        assert value in loopback, value
    for value in (
        "http://127.evil.example/",
        "http://localhost.evil.example/",
        "http://[::ffff:128.0.0.1]/",
        "http://evil.example\\@localhost/",
        "http://localhost@evil.example/",
        "http://0.0.0.0/",
    ):
        assert value not in loopback, value
    for value in ("http://10.0.0.300/v1", "http://1.2.3.4.5/", "http://+127.0.0.1/"):
        assert read_url(value) is None, value
        assert url_problem(value) == "not a valid URL (as Flue's fetch reads URLs)"
