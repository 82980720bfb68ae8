"""Every diagnostic code flue-decl emits: its default severity and what it means.

Codes are stable: CI configurations, SARIF ``ruleId``s and suppressions refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import Severity, did_you_mean

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    summary: str

    @property
    def name(self) -> str:
        """CamelCase form, as SARIF's ``reportingDescriptor.name`` likes it."""
        return "".join(part.capitalize() for part in self.code.split("-"))


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "input-not-found", E, "An input path or a named settings file does not exist (exit 2)."
        ),
        Rule(
            "invalid-settings",
            E,
            "The settings file (flue-decl.toml, [tool.flue-decl]) cannot be read or has an "
            "unknown key, a wrong type or an unknown code (exit 2).",
        ),
        Rule(
            "no-documents",
            E,
            "The inputs hold no YAML document: nothing was checked (a wrong path in CI?).",
        ),
        Rule(
            "ignored-file",
            W,
            "A directory entry that looks like configuration but is not read: a suffix that "
            "is .yaml or .yml but for case or whitespace (.YAML, `x.yaml `), a *.json file, "
            "or a subdirectory holding YAML files (name it as a layer).",
        ),
        Rule(
            "symlink-outside",
            E,
            "A link in a configuration directory points outside it (name the file to read it).",
        ),
        Rule(
            "skipped-file",
            E,
            "A *.yaml entry that is not a regular file (dangling link, loop, directory, FIFO): "
            "the tree would load without it.",
        ),
        Rule("io-error", E, "An input file or directory cannot be read (exit 2)."),
        Rule(
            "too-many-files",
            E,
            "A directory holds more than 50,000 entries: it is refused unread (exit 2).",
        ),
        Rule(
            "file-too-large",
            E,
            "A file is larger than the per-file size cap (max-file-bytes, 1 MiB by default).",
        ),
        Rule("encoding", E, "A file is not UTF-8 text (bad byte or NUL)."),
        Rule("yaml-syntax", E, "The file is not valid YAML."),
        Rule("yaml-tag", E, "A YAML tag other than the plain types (e.g. !!python/...)."),
        Rule("yaml-alias-cycle", E, "A YAML alias refers to a node that contains it."),
        Rule(
            "yaml-too-large",
            E,
            "A file expands past the node budget (200,000 nodes per file; 200,000 added by "
            "aliases across the whole tree), or the tree's YAML would take more memory "
            "parsed than 20 times the size of its files plus 32 MiB (tiny mappings, "
            "documents or deep nesting by the hundred thousand).",
        ),
        Rule("yaml-too-deep", E, "Nesting deeper than the depth cap."),
        Rule("yaml-merge", E, "A `<<` merge key that does not merge mappings."),
        Rule("duplicate-key", E, "The same key twice in one mapping."),
        Rule(
            "non-string-key", E, "A key that YAML reads as a number, boolean, null or collection."
        ),
        Rule("not-a-mapping", E, "A document that is not a mapping."),
        Rule("unknown-kind", E, "`kind` is not Provider, ProviderConfiguration or ApiProvider."),
        Rule("missing-key", E, "A required key is missing."),
        Rule("unknown-key", E, "A key that the document kind does not have."),
        Rule("invalid-key", E, "A key with characters its map does not allow (header names)."),
        Rule("wrong-type", E, "A value of the wrong type."),
        Rule("invalid-value", E, "A value of the right type that the schema does not allow."),
        Rule(
            "duplicate-definition",
            E,
            "Two documents define the same (kind, id) without overlay; the second is still "
            "checked in full.",
        ),
        Rule("overlay-without-base", E, "An overlay with nothing earlier to merge over."),
        Rule("unknown-api", E, "`api` is not a known wire protocol."),
        Rule("unknown-provider", E, "configureProvider targets a provider that does not exist."),
        Rule("invalid-url", E, "`baseUrl` is not an http(s) URL."),
        Rule(
            "insecure-key-transport",
            E,
            "An API key or credential header would travel over http:// off loopback.",
        ),
        Rule(
            "plain-http-allowed",
            N,
            "allowPlainHttp: true lets credentials travel over http:// to this provider's host "
            "(a reviewed choice for a trusted network): shown, never fails a run.",
        ),
        Rule(
            "unquoted-template",
            E,
            "A `{{ ... }}` template without quotes: YAML reads `apiKey: {{ env.X }}` as a mapping.",
        ),
        Rule("template-syntax", E, "A Jinja2 template does not parse."),
        Rule("template-unknown-variable", E, "A template uses a variable other than `env`."),
        Rule(
            "template-not-allowed",
            E,
            "A template where values are literal (keys, id, api...), or a construct outside "
            "the template language (calls, arithmetic, lists, computed names...).",
        ),
        Rule("template-too-long", E, "A template or its output is longer than the cap."),
        Rule(
            "missing-env",
            E,
            "A template's variable or secret file is missing (when rendering: check-env, "
            "calls, resolve, load).",
        ),
        Rule(
            "invalid-rendered-value",
            E,
            "A rendered value has a line break or control character, or is longer than 64 KiB.",
        ),
        Rule(
            "invalid-header-value",
            E,
            "A header value holds a control character (C0 but TAB, or DEL): it would be sent "
            "as is, or split the request.",
        ),
        Rule(
            "literal-secret",
            W,
            "A key or credential written literally in a file (an error "
            "for `compile`: the artifact never holds secrets).",
        ),
        Rule(
            "reserved-id",
            E,
            "A provider ID is a JavaScript Object.prototype name (`constructor`, `__proto__`, "
            "`toString`...): Flue's runtime would read inherited members for it.",
        ),
        Rule(
            "handler-not-allowed",
            E,
            "An ApiProvider handler is outside the modules the service allows (at load).",
        ),
        Rule(
            "handler-import",
            E,
            "An ApiProvider handler does not import, raises while importing (SystemExit too), "
            "or does not implement WireProtocol (at load).",
        ),
        Rule("unresolved-model", E, "A model specifier does not resolve."),
        Rule(
            "client-unsupported",
            E,
            "No HTTP client for the model's API (Bedrock's signed requests, a Cloudflare "
            "binding, a custom API whose handler has no auth_headers).",
        ),
        Rule(
            "too-many-problems",
            E,
            "A file has more than 100 problems: the first 100 are listed (an error when any "
            "is one). Said also where a check stopped early: after 200 schema errors in a "
            "document, or 200 problems found reading a file. (Past 1,000 of one code in a "
            "file, one more of that code says how many.)",
        ),
        Rule("artifact-invalid", E, "A compiled artifact cannot be read or has another version."),
        Rule(
            "foreign-template",
            W,
            "Another tool's variable syntax (${VAR}, os.environ/VAR...); an error in apiKey or "
            "a credential header, which would be sent as that text.",
        ),
        Rule("max-tokens-exceeds-context", W, "maxTokens is larger than contextWindow."),
        Rule("store-responses-ignored", W, "storeResponses on a provider whose API ignores it."),
        Rule("yaml11-boolean", W, "yes/no/on/off, which YAML reads as booleans."),
        Rule("shadows-builtin", W, "A registered provider ID hides a built-in provider."),
        Rule("unknown-catalog-model", W, "A per-model override for a model the catalog lacks."),
        Rule(
            "invalid-suppression",
            W,
            "A `# flue-decl: ignore[...]` comment that names an unknown code or an error "
            "(errors cannot be suppressed), or is misspelt.",
        ),
        Rule("unused-suppression", W, "A `# flue-decl: ignore[...]` comment that matches nothing."),
    )
}


def why_not_silenced(
    code: str, verb: str, *, where: str = "", hint: bool = True
) -> tuple[str, str] | None:
    """Why ``code`` cannot be silenced (``verb``: by a comment, "suppressed"; by the
    settings, "ignored"; ``where`` it was named, e.g. `` in `ignore` ``), as a message and
    a hint, or None when it can: only warnings and notes can, since an error means Flue
    would refuse the tree or a key would leak. ``hint``: look for a did-you-mean for an
    unknown code (a fuzzy match against every code: skipped when nobody reads it)."""
    rule = RULES.get(code)
    if rule is None:
        close = did_you_mean(code, RULES) if hint else None
        hint_text = close or "flue-decl's docs/checks.md lists every code"
        return f"unknown code `{code}`{where}", hint_text
    if rule.severity is Severity.ERROR:
        return (
            f"`{code}` is an error and cannot be {verb}",
            f"fix what it reports; only warnings and notes can be {verb}",
        )
    return None
