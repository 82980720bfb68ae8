"""The template language: what it accepts means what Jinja2 makes of it, what it refuses
is refused at ``validate`` with a hint, and an accepted template cannot fail to render
except for a missing variable or an unusable value."""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flue_decl.templates import _jinja, check_syntax, render
from flue_decl.templates._core import MAX_MISSING
from flue_decl.templates._evaluate import evaluate
from flue_decl.templates._fast import one_expression, parts_of, simple_parts
from flue_decl.templates._grammar import from_simple, parse
from tests.helpers import examples
from tests.unit.templates import jinja_oracle

# -- generated templates of the language ---------------------------------------------------

NAMES = ["A", "B", "HOST", "X_1", "a-b", "", "env", "if", "k.v"]
ENV_VALUES = st.text(alphabet="vW:/ %é-", max_size=5)


def _literal(draw: st.DrawFn) -> str:
    text = draw(st.text(alphabet="ab c/:.-_é%#(){}|~", max_size=6))
    quote = draw(st.sampled_from(["'", '"']))
    return quote + text.replace(quote, "") + quote


def _ref(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    if name.isidentifier() and not name.startswith("_") and draw(st.booleans()):
        return f"env.{name}"
    return f"env['{name}']" if draw(st.booleans()) else f'env["{name}"]'


def _grouped(expression: str) -> str:
    """An inline if in the condition or the first branch of another needs parentheses."""
    return f"({expression})" if " if " in expression else expression


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["ref", "ref", "literal", "filter", "concat", "if", "paren"]))
    if depth >= 3 or kind == "ref":
        return _ref(draw)
    if kind == "literal":
        return _literal(draw)
    if kind == "paren":
        return "(" + draw(expressions(depth + 1)) + ")"
    if kind == "concat":
        parts = [draw(expressions(depth + 1)) for _ in range(draw(st.integers(2, 3)))]
        return " ~ ".join(parts)
    if kind == "if":
        if draw(st.booleans()):
            negated = " not" if draw(st.booleans()) else ""
            condition = f"{_ref(draw)} is{negated} defined"
        else:
            condition = _grouped(draw(expressions(depth + 1)))
        then, otherwise = _grouped(draw(expressions(depth + 1))), draw(expressions(depth + 1))
        return f"{then} if {condition} else {otherwise}"
    base = draw(expressions(depth + 1))
    if " if " in base or " ~ " in base:
        base = f"({base})"
    chosen = draw(
        st.sampled_from(["d", "default", "lower", "upper", "trim", "urlencode", "replace"])
    )
    if chosen in ("d", "default"):
        args = draw(st.sampled_from(["", "no-args", "expr", "expr-true"]))
        if args == "no-args":
            return f"{base} | {chosen}"
        if args == "":
            return f"{base} | {chosen}()"
        fallback = draw(expressions(depth + 1))
        flag = ", true" if args == "expr-true" else ""
        return f"{base} | {chosen}({fallback}{flag})"
    if chosen == "replace":
        return f"{base} | replace({_literal(draw)}, {_literal(draw)})"
    return f"{base} | {chosen}"


@st.composite
def templates(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        pieces.append(draw(st.text(alphabet="ab /:.-é}", max_size=5)))
        space = draw(st.sampled_from(["", " ", "  "]))
        pieces.append("{{" + space + draw(expressions()) + space + "}}")
    pieces.append(draw(st.text(alphabet="ab /:.-é", max_size=5)))
    return "".join(pieces)


ENVS = st.dictionaries(st.sampled_from(NAMES), ENV_VALUES, max_size=5)


@settings(
    max_examples=examples(1500),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(templates(), ENVS)
def test_every_template_of_the_language_renders_as_jinja2_renders_it(
    source: str, env: dict[str, str]
) -> None:
    assert check_syntax(source) is None, (source, check_syntax(source))
    ours = render(source, env)
    assert ours.problem is None
    assert (ours.value, ours.missing) == jinja_oracle.render(source, env), source


@settings(max_examples=examples(600), deadline=None, database=None)
@given(templates(), ENVS)
def test_the_shortcut_for_plain_lookups_agrees_with_jinja2s_parse(
    source: str, env: dict[str, str]
) -> None:
    parts = simple_parts(source)
    if parts is None:
        return
    # The same tree as Jinja2's parse walked, and the same rendering by either path.
    assert from_simple(parts) == _jinja.parse(source), source
    assert render(source, env) == evaluate(from_simple(parts), env)


# Pieces of templates near the one-expression shape, and what breaks it.
NEAR_ONE = st.lists(
    st.sampled_from(
        ["{{", "}}", " ", "\xa0", "env", ".", "X", "_1", "['a']", '["b"]', "['", "']", "|",
         "default", "d", "(", ")", "'", '"', "x", "{", "}", "\\", "é", "[", "]"]
    ),
    max_size=16,
).map("".join)


@settings(max_examples=examples(3000), deadline=None, database=None)
@given(st.one_of(NEAR_ONE, templates()))
def test_the_one_expression_match_reads_what_the_loop_reads(source: str) -> None:
    one = one_expression(source)
    if one is not None:
        assert one == parts_of(source), source


# -- anything at all: accepted, or refused before rendering ---------------------------------

SOUP = st.lists(
    st.sampled_from(
        [
            "{{",
            "}}",
            " ",
            "env",
            ".",
            "A",
            "['A']",
            "[",
            "]",
            "(",
            ")",
            "|",
            "lower",
            "d",
            "default",
            "replace",
            "~",
            "if",
            "else",
            "is",
            "defined",
            "not",
            "'x'",
            '"y"',
            ",",
            "true",
            "1",
            "+",
            "*",
            "**",
            "-",
            "self",
            "range",
            "{%",
            "%}",
            "\\n",
            "get",
            "upper()",
            "__class__",
            "urlencode",
            "trim",
            "os",
            "[0]",
            "()",
            "(env|lower)",
            ").A",
            "is not",
            "10 ** 64",
        ]
    ),
    max_size=14,
).map("".join)


@settings(max_examples=examples(3000), deadline=None, database=None)
@given(st.one_of(SOUP, templates()), ENVS)
def test_what_validate_accepts_fails_to_render_only_for_a_missing_or_unusable_value(
    source: str, env: dict[str, str]
) -> None:
    problem = check_syntax(source)
    result = render(source, env)
    if problem is not None:
        assert result.value is None
        assert result.problem == problem
        return
    assert result.problem is None or result.problem.code == "invalid-rendered-value"
    assert (result.value is None) == bool(result.missing or result.problem)


# -- what was accepted before, and must now be refused at validate -------------------------

REFUSED = {
    # Hints in the template's own names.
    "{{ env.get('MISTRAL_API_KEY') }}": ("template-not-allowed", "{{ env.MISTRAL_API_KEY }}"),
    "{{ env.get('X', 'd') }}": ("template-not-allowed", "{{ env.X | default('d') }}"),
    "{{ env.get('a-b') }}": ("template-not-allowed", "{{ env['a-b'] }}"),
    "{{ env.X.strip() }}": ("template-not-allowed", "{{ env.X | trim }}"),
    "{{ env.X.replace('-', '_') }}": ("template-not-allowed", "{{ env.X | replace('-', '_') }}"),
    "{{ secret.db-password }}": ("template-not-allowed", "secret['db-password']"),
    "{{ env.X.upper() }}": ("template-not-allowed", "{{ env.X | upper }}"),
    "{{ env.X.__class__ }}": ("template-not-allowed", "filter"),
    "{{ [['a'] * 60000] * 60000 }}": ("template-not-allowed", None),
    "{{ (((10 ** 64) ** 64) ** 64) ** 64 }}": ("template-not-allowed", None),
    "{{ env.A" + " | lower" * 320 + " }}": ("template-not-allowed", None),
    "{{ env.A" + " | lower" * 250 + " }}": ("template-not-allowed", None),
    "{{ env.A" + ".x" * 600 + " }}": ("template-not-allowed", None),
    "{{ " + " + ".join(["1"] * 600) + " }}": ("template-not-allowed", "join strings with ~"),
    "{{ [0]" + "[0]" * 600 + " }}": ("template-not-allowed", None),
    "{{ env.A" + "|d" * 600 + " }}": ("template-not-allowed", None),
    "{{ " + "(" * 1000 + "env.A" + ")" * 1000 + " }}": ("template-not-allowed", None),
    "{{ env[env.SECRET] }}": ("template-not-allowed", "env['NAME']"),
    "{{ os.environ['XAI_API_KEY'] }}": ("template-unknown-variable", "{{ env.XAI_API_KEY }}"),
    "{{ env.CEREBRAS-API-KEY }}": ("template-not-allowed", "env['CEREBRAS-API-KEY']"),
    "{{ self }}": ("template-unknown-variable", "env.NAME"),
    "{{ secrets.OPENAI_KEY }}": ("template-unknown-variable", "GitHub Actions"),
    "{{ env.A }}\n": ("template-not-allowed", "one line"),
    "{% if env.A %}x{% endif %}": ("template-not-allowed", "inline if"),
    "{{- env.A }}": ("template-not-allowed", None),
    "{{ env.A -}}": ("template-not-allowed", None),
    "{{ env.A | center(300000000) }}": ("template-not-allowed", "the filters are"),
    "{{ env.A | replace('a', env.B) }}": ("template-not-allowed", "replace('-', '_')"),
    "{{ env.A if env.B }}": ("template-not-allowed", "else"),
    "{{ env.A is defined }}": ("template-not-allowed", "if env.A is defined else"),
    "{{ env.PORT | default(8080) }}": ("template-not-allowed", "{{ env.PORT | default('8080') }}"),
    "{{ env['A-B'] is defined }}": ("template-not-allowed", "{{ env['A-B'] if env['A-B'] is"),
    "{{ env.A": ("template-syntax", None),
    "{{ }}": ("template-syntax", None),
    "{{ env._PRIVATE }}": ("template-not-allowed", "env['_PRIVATE']"),
    "{{ env.X | default('a', true, false) }}": ("template-not-allowed", "default('x', true)"),
    "{{ env.X | default(true) }}": ("template-not-allowed", "second argument"),
    "{{ env.A }": ("template-not-allowed", "{{ env.NAME }}"),
    "{{ env['A\\'] }}": ("template-not-allowed", "without backslashes"),
    "{{" * 2048: ("template-not-allowed", None),
    "{{ env.A }}" + "{{" * 2000: ("template-not-allowed", None),
    # Each a level of Jinja2's recursive parser: bounded before it runs.
    "{{ " + "not " * 1000 + "env.A }}": ("template-not-allowed", None),
    "{{ " + "'a' if env.A else " * 200 + "'b' }}": ("template-not-allowed", None),
    "{{ " + "env.A | d(" * 400 + "'x'" + ")" * 400 + " }}": ("template-too-long", None),
    "{{ " + "env.A | d(" * 100 + "'x'" + ")" * 100 + " }}": ("template-not-allowed", None),
    "{{ 'a' 'b' }}": ("template-syntax", "~"),
    "{{ env.A, env.B }}": ("template-not-allowed", None),
    "{{ env.A | default(boolean=true) }}": ("template-not-allowed", None),
    "{{ env.A | lower.x }}": ("template-not-allowed", "the filters are"),
    "{# a comment #}": ("template-not-allowed", "inline if"),
    "{{ env.A if env.B in env.C else 'x' }}": ("template-not-allowed", "is defined else"),
    "{{ self.__init__.__globals__ }}": ("template-unknown-variable", None),
    # A lookup on a call or a filter of env itself (these crashed the walk once).
    "{{ (env|lower).A }}": ("template-not-allowed", "env.NAME"),
    "{{ env().A }}": ("template-not-allowed", None),
    "{{ env()['A'] }}": ("template-not-allowed", None),
    "{{ (secret|d).x }}": ("template-not-allowed", "secret.NAME"),
    "{{ env.A if env().B is defined else 'x' }}": ("template-not-allowed", None),
    "{{ (env|lower).A.upper() }}": ("template-not-allowed", "filter"),
}


@pytest.mark.parametrize("source", list(REFUSED), ids=[s[:40] for s in REFUSED])
def test_known_escapes_are_refused_quickly_with_the_right_hint(source: str) -> None:
    code, hint = REFUSED[source]
    elapsed = []
    for _ in range(3):  # the quickest of three, each uncached: a busy machine adds noise
        simple_parts.cache_clear()
        parse.cache_clear()
        started = time.perf_counter()
        problem = check_syntax(source)
        elapsed.append(time.perf_counter() - started)
    assert problem is not None
    assert problem.code == code
    if hint is not None:
        assert problem.hint is not None
        assert hint in problem.hint, problem
    assert min(elapsed) < 0.1  # these took from seconds to minutes (or crashed) before


def test_twenty_levels_are_accepted_and_mean_what_jinja2_makes_of_them() -> None:
    nested = "{{ " + "(" * 20 + "env.A" + ")" * 20 + " }}"
    chained = "{{ " + "'a' if env.A is not defined else " * 10 + "env.A }}"
    # Side by side, inline ifs do not nest: only those still open count.
    siblings = "{{ " + "".join(
        f"('' if env.P{i} is not defined else '&p{i}=' ~ env.P{i}) ~ " for i in range(1, 15)
    ) + "'' }}"
    for source in (nested, chained, siblings):
        assert check_syntax(source) is None
        env = {"A": "v", "P3": "x"}
        assert render(source, env).value == jinja_oracle.render(source, env)[0]
    assert check_syntax("{{ " + "(" * 21 + "env.A" + ")" * 21 + " }}") is not None


def test_a_parsed_template_is_made_of_tuples_the_collector_stops_tracking() -> None:
    # Parses are cached for a service's life: what they hold must cost a full collection
    # nothing (see _syntax).
    parsed = parse("{{ ('a' ~ env.A | lower) if secret.K is defined else env.B | d('x', true) }}")
    assert not isinstance(parsed, Exception)
    for _ in range(8):  # a pass untracks a tuple once its items are: one per level at worst
        gc.collect()
    stack: list[object] = [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            assert type(item) is tuple
            assert not gc.is_tracked(item), item
            stack.extend(item)


def test_a_value_of_hundreds_of_unset_names_names_the_first_few() -> None:
    # Each missing name is found by rendering again: bounded, not one rendering per name.
    names = [f"V{i:03d}" for i in range(200)]
    for joined in (" ~ ", " | lower ~ "):
        source = "{{ " + joined.join(f"env.{n}" for n in names) + " }}"
        assert check_syntax(source) is None
        result = render(source, {})
        assert result.missing == tuple(names[:MAX_MISSING])
        assert result.missing == jinja_oracle.render(source, {})[1][:MAX_MISSING]


def test_environment_bytes_that_are_not_utf8_are_an_unusable_value() -> None:
    env = {"A": "a\udcffb"}  # how Python keeps a byte that is not UTF-8
    for source in ("{{ env.A | urlencode }}", "{{ env.A }}", "x-{{ env.A | lower }}"):
        result = render(source, env)
        assert result.problem is not None
        assert result.problem.code == "invalid-rendered-value"


def test_an_oversized_value_is_refused_before_it_is_built() -> None:
    huge = {"A": "a" * 60000}
    result = render("{{ env.A ~ env.A }}", huge)
    assert result.problem is not None
    assert result.problem.code == "invalid-rendered-value"
    grown = render("{{ env.A | replace('a', 'bb') }}", huge)
    assert grown.problem is not None
    assert grown.problem.code == "invalid-rendered-value"


def test_the_forms_people_write() -> None:
    env = {"HOST": "Api.Example.com ", "TOKEN": "t", "EMPTY": ""}
    assert render("Bearer {{ env.TOKEN }}", env).value == "Bearer t"
    assert render("{{ 'Bearer ' ~ env.TOKEN }}", env).value == "Bearer t"
    assert render("{{ env.EMPTY | default('x', true) }}", env).value == "x"
    assert render("{{ env.EMPTY | default('x') }}", env).value == ""
    assert render("{{ env.NONE is not defined and 1 }}", env).value is None
    assert render("{{ 'y' if env.NONE is not defined else 'n' }}", env).value == "y"
    assert render("{{ env['HOST'] | trim | lower | replace('.', '-') }}", env).value == (
        "api-example-com"
    )
