"""``# flue-decl: ignore[...]`` comments: what they cover, what they cannot silence, and the
warnings for ones that are wrong or silence nothing."""

from __future__ import annotations

from pathlib import Path

from flue_decl import compile_paths
from flue_decl._settings import settings_for
from tests.helpers import write_files

HEAD = "kind: Provider\nid: p\napi: openai-completions\nbaseUrl: http://localhost:1/v1\n"


def diagnose(tmp_path: Path, body: str, **settings: object) -> list[tuple[str, int | None, bool]]:
    write_files(tmp_path, {"providers.d/a.yaml": HEAD + body})
    options = settings_for(None, **settings) if settings else None
    compilation = compile_paths(str(tmp_path / "providers.d"), settings=options)
    return [(d.code, d.line, d.suppressed is not None) for d in compilation.diagnostics]


def test_end_of_line_covers_its_line_and_a_lone_comment_the_next(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "contextWindow: 10\n"
        "maxTokens: 20  # flue-decl: ignore[max-tokens-exceeds-context]\n"
        "models:\n"
        "  # flue-decl: ignore[max-tokens-exceeds-context]\n"
        "  a: {maxTokens: 30}\n"
        "  b: {maxTokens: 40}\n",
    )
    assert got == [
        ("max-tokens-exceeds-context", 6, True),
        ("max-tokens-exceeds-context", 9, True),
        ("max-tokens-exceeds-context", 10, False),  # not covered: the comment is two lines up
    ]


def test_a_reason_may_follow_the_codes(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "contextWindow: 10\n"
        "maxTokens: 20  # flue-decl: ignore[max-tokens-exceeds-context]  # reviewed: a gateway\n"
        "# flue-decl: ignore[yaml11-boolean]x\n",
    )
    assert got == [("max-tokens-exceeds-context", 6, True), ("invalid-suppression", 7, False)]


def test_a_file_comment_covers_the_file_and_several_codes(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "contextWindow: 10\nmaxTokens: 20\n"
        "# flue-decl: ignore-file[max-tokens-exceeds-context, yaml11-boolean]\n",
    )
    assert got == [
        ("max-tokens-exceeds-context", 6, True),
        ("unused-suppression", 7, False),  # no yaml11-boolean anywhere
    ]


def test_text_inside_a_value_is_not_a_comment(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        'headers:\n  X-A: "a # flue-decl: ignore[whatever]"\n'
        "  X-B: |-\n    # flue-decl: ignore[whatever]\n"
        "  X-C: a#flue-decl:ignore[whatever]\n",
    )
    assert got == []


def test_errors_cannot_be_suppressed(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "baseURL: x  # flue-decl: ignore[unknown-key]\n"
        'apiKey: "${KEY}"  # flue-decl: ignore[foreign-template]\n',
    )
    assert got == [
        ("unknown-key", 5, False),
        ("invalid-suppression", 5, False),  # an error code: refused when read
        ("foreign-template", 6, False),  # an error here (a credential), a warning elsewhere
        ("invalid-suppression", 6, False),  # ... so this one silenced nothing it could
    ]


def test_unknown_codes_and_misspellings_are_warned(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "contextWindow: 10  # flue-decl: ignore[max-token-exceeds-context]\n"
        "maxTokens: 5  # flue-decl: ignroe[yaml11-boolean]\n"
        "# flue-decl: ignore[]\n",
    )
    assert got == [
        ("invalid-suppression", 5, False),
        ("invalid-suppression", 6, False),
        ("invalid-suppression", 7, False),
    ]


def test_settings_ignore_and_per_file_ignores(tmp_path: Path) -> None:
    body = "contextWindow: 10\nmaxTokens: 20\nshadow: 1\n"
    assert diagnose(tmp_path, body)[0] == ("max-tokens-exceeds-context", 6, False)
    got = diagnose(tmp_path, body, ignore=frozenset({"max-tokens-exceeds-context"}))
    assert got[0] == ("max-tokens-exceeds-context", 6, True)
    assert got[1][0] == "unknown-key"  # an error: never ignored
    for pattern, hit in (("providers.d/*.yaml", True), ("other/*", False)):
        write_files(tmp_path, {"providers.d/a.yaml": HEAD + body})
        settings = tmp_path / "flue-decl.toml"  # patterns are relative to its directory
        settings.write_text(f'[per-file-ignores]\n"{pattern}" = ["max-tokens-exceeds-context"]\n')
        compilation = compile_paths(str(tmp_path / "providers.d"), settings=settings)
        first = compilation.diagnostics[0]
        assert (first.code, first.suppressed) == (
            "max-tokens-exceeds-context",
            "external" if hit else None,
        )


def test_a_comment_on_a_block_scalars_header_is_a_comment(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "apiKey: >- # flue-decl: ignore[literal-secret]\n"
        "  sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n"
        "headers:\n  X-Note: |-\n    # flue-decl: ignore-file[literal-secret]\n",
    )
    assert got == [("literal-secret", 5, True)]


def test_no_comment_silences_what_is_wrong_with_comments(tmp_path: Path) -> None:
    got = diagnose(tmp_path, "bogus: 1 # flue-decl: ignore[unknown-key, invalid-suppression]\n")
    assert got == [
        ("unknown-key", 5, False),
        ("invalid-suppression", 5, False),  # unknown-key is an error
        ("invalid-suppression", 5, False),  # invalid-suppression is about comments
    ]


def test_lines_are_counted_as_yaml_counts_them(tmp_path: Path) -> None:
    body = "contextWindow: 10\rmaxTokens: 20  # flue-decl: ignore[max-tokens-exceeds-context]\r"
    write_files(tmp_path, {"providers.d/a.yaml": (HEAD + body).replace("\n", "\r").encode()})
    compilation = compile_paths(str(tmp_path / "providers.d"))
    assert [(d.code, d.line, d.suppressed) for d in compilation.diagnostics] == [
        ("max-tokens-exceeds-context", 6, "inSource")
    ]


def test_after_a_syntax_error_no_text_counts_as_a_comment(tmp_path: Path) -> None:
    got = diagnose(
        tmp_path,
        "contextWindow: 100\nmaxTokens: 500\n---\nfoo: @bar\n"
        "baz: 'x # flue-decl: ignore-file[max-tokens-exceeds-context] '\n",
    )
    assert got == [("max-tokens-exceeds-context", 6, False), ("yaml-syntax", 8, False)]


def test_a_file_with_an_error_gets_no_unused_suppression(tmp_path: Path) -> None:
    # The checks never ran on a document YAML could not read: its comments silenced
    # nothing yet, and "remove the code" would be wrong advice.
    got = diagnose(
        tmp_path,
        "contextWindow: 10  # flue-decl: ignore[max-tokens-exceeds-context]\n"
        "# flue-decl: ignore-file[yaml11-boolean]\n"
        "models:\n  m2: [\n",
    )
    assert got == [("yaml-syntax", 9, False)]
