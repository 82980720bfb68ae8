"""What one tree's YAML may cost while it is read: the rule behind validate's memory bound.

validate's peak memory is at most 20 times its input plus 100 MiB, for any input within
the caps (docs/safety.md). A tree of ordinary provider files needs far less; a file can
still ask for more than its size, because Python's objects cost more than their text: a
one-key mapping ``{a}`` is 4 bytes of YAML and over 400 bytes parsed. So the parse charges
what each piece it builds will hold, by the table below, to one budget per compile:
``PER_INPUT_BYTE`` bytes for each byte of the tree's files plus ``ALLOWANCE``. A file
that would go past it is refused (``yaml-too-large``) where it does; files read before it
are kept and checked.

The figures were measured on CPython 3.11 (bench/notes.md, "What a tree may cost"), with
shapes built to cost the most per byte: for each, the charge came out at or above what
validate's peak grew by. Charges depend on the input alone, so a tree is refused or not
whatever else the process does, on every run.
"""

from __future__ import annotations

# Held until the compile ends (bytes):
DOCUMENT = 2_000  # a document: its Document, places, and the entity and checks of it
COLLECTION = 80  # an empty mapping or sequence, and its place
FIRST = 280  # a collection's first entry: its table of places, a dict or list grown
ENTRY = 120  # a mapping's entry: its slot, its key's place
ITEM = 40  # a sequence's item: its slot, its place
STRING = 56  # and one more a character (four where any is not ASCII: CPython stores a
# string at the width of its widest character): a string the file has not given before
NUMBER = 40  # a number, or the text of a typed scalar that is kept (and its length)
# Typed scalars by kind: a date is a datetime, a timezone and a timedelta; binary is bytes
# (and its length). True, false and null are one object each.
TYPED = {"integer": NUMBER, "number": NUMBER, "date": 4 * NUMBER, "binary": NUMBER}
DEPTH = 8  # for each level of the path, in whatever is charged by its path
FILE = 600  # and two a character of its path: a file read (its SourceFile, hash, results)
# Held while one document is read, then freed: each place in the logs (and its path).
LOGGED = 120

MAX_NODES_PER_FILE = 200_000  # values, as written or added by aliases
PER_INPUT_BYTE = 20
ALLOWANCE = 32 * 2**20  # of the 100 MiB: the rest is the interpreter, the diagnostics
# kept (``_found``: at most DIAGNOSTICS_KEPT bytes of them, DIAGNOSTIC each) and the checks
DIAGNOSTIC = 1_500  # a diagnostic kept: message, hint, place, path
DIAGNOSTICS_KEPT = 16 * 2**20
# What aliases may add across one tree, all files together: a legitimate tree repeats a
# few small blocks; many files each just under the per-file node budget would not stop.
MAX_ALIAS_NODES_PER_TREE = 200_000


MAX_COMMON = 50_000  # strings, and integers, a tree keeps one object of (see TreeBudget)


class TreeBudget:
    """One compile's budget, shared by every file it reads: ``aliases`` the nodes aliases
    may still add, ``used`` the bytes charged by files read whole, of ``limit``.

    ``strings`` and ``numbers``: one object for each short string and each integer the
    tree's files repeat, up to ``MAX_COMMON`` of each (a tree lists the same model IDs,
    APIs and limits in file after file). Charges stay per file (``_frames.Shared``): what
    a file costs does not depend on the files read before it."""

    __slots__ = ("aliases", "limit", "numbers", "strings", "used")

    def __init__(self, input_bytes: int) -> None:
        self.aliases = MAX_ALIAS_NODES_PER_TREE
        self.used = 0
        self.limit = PER_INPUT_BYTE * input_bytes + ALLOWANCE
        self.strings: dict[str, str] = {}
        self.numbers: dict[int, int] = {}

    def number(self, value: int) -> int:
        """The tree's one object for the integer ``value`` (``int`` exactly, not ``bool``)."""
        common = self.numbers.get(value)
        if common is not None:
            return common
        if len(self.numbers) < MAX_COMMON:
            self.numbers[value] = value
        return value


_ALIASES = "aliases (*name) repeat whole subtrees; write the values out or use fewer"


def refusal(budget: str, limit: int) -> tuple[str, str]:
    """The message and hint of a ``yaml-too-large``: which ``budget`` ran out, of ``limit``."""
    if budget == "file":
        return f"the file expands to more than {limit} nodes", _ALIASES
    if budget == "aliases":
        return f"aliases expand to more than {limit} nodes in this tree (all files together)", (
            _ALIASES
        )
    return (
        f"the tree's YAML would take more than {limit >> 20} MiB parsed: {PER_INPUT_BYTE} "
        f"times the size of its files and {ALLOWANCE >> 20} MiB",
        "this is far denser than any provider configuration (tiny mappings, documents or "
        "deep nesting by the hundred thousand): write fewer values",
    )
