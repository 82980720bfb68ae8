"""The bounded memo behind the template and URL caches (flue_decl._memo)."""

from __future__ import annotations

import gc

from flue_decl._memo import memo
from flue_decl.templates._grammar import parse


def test_results_are_kept_none_included_and_the_table_starts_again_when_full() -> None:
    calls: list[str] = []

    @memo(3)
    def shout(text: str) -> str | None:
        calls.append(text)
        return None if text == "none" else text.upper()

    assert [shout("a"), shout("a"), shout("none"), shout("none")] == ["A", "A", None, None]
    assert calls == ["a", "none"]
    shout("b")
    shout("c")  # the fourth value: the table is cleared first
    shout("a")
    assert calls == ["a", "none", "b", "c", "a"]
    shout.cache_clear()
    shout("c")
    assert calls[-1] == "c"


def test_a_full_collection_stops_tracking_a_table_of_parsed_templates() -> None:
    """Why it is a plain dict: the collector traversed lru_cache entry by entry."""
    parse.cache_clear()
    for n in range(100):
        parse(f"{{{{ env.V{n} | default('x') }}}}/{{{{ env.W{n} }}}}")
    for _ in range(10):  # each collection may untrack one more level of nested tuples
        gc.collect()
    assert not gc.is_tracked(parse._table)
