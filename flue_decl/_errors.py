"""Diagnostics and the exception hierarchy.

Every problem flue-decl finds is a :class:`Diagnostic`: a value with a
severity, a stable code, a message, and the place it concerns (file, line,
column, JSON path) plus an optional fix hint. Stages *collect* diagnostics;
only the public entry points raise, and they raise one of::

    FlueDeclError               base: carries ``.diagnostics``
    ├── ConfigError             the configuration is refused: nothing was loaded
    │   ├── InputError          a path is missing or unreadable (CLI exit 2)
    │   │   └── SettingsError   the settings file is unreadable or wrong (CLI exit 2)
    │   ├── ValidationError     syntax, schema, semantic or layering problems
    │   ├── TemplateError       a template failed to render (missing env var ...)
    │   └── ReloadError         a reload's compiler process failed: tried again next poll
    ├── ResolveError            a model specifier does not resolve (at request time)
    └── ClientError             no HTTP client for a model (unsupported API, unsafe transport)

``except ConfigError`` around loading catches a refused tree and nothing that a request
can raise later; ``except FlueDeclError`` catches all of them.

    httpx.RequestError
    └── CrossOriginRequestError a client's request would leave its model's origin

Messages never contain secret values: render errors name the variable, not
its value, and the stages that see secrets only ever put places into
diagnostics.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from ._secrets import scrub

PathPart = str | int
JsonPath = tuple[PathPart, ...]


class Severity(enum.StrEnum):
    """How bad a diagnostic is: an error fails ``validate``; a warning only with --strict; a
    note never (it points a reviewer at a deliberate choice)."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


# A place as a plain tuple (file, line, column): what the compiler and the registry keep
# for every node and field. CPython's cyclic collector stops tracking an exact tuple of
# strings and numbers, so the million places of a large tree cost its full collections
# nothing (as objects they made each one rescan them all, stalling every thread); a
# :class:`Place` is made from one when it is shown.
Spot = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Place:
    """A position in a source file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def format_path(path: JsonPath) -> str:
    """``("models", "llama3.1:8b", "maxTokens")`` → ``$.models['llama3.1:8b'].maxTokens``."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not isinstance(part, str):
            out += f"[{part!r}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out += f"['{escaped}']"
    return out


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: its severity, a stable ``code`` (see ``flue_decl._codes``), a message,
    where it is (``file``, 1-based ``line`` and ``column``, the JSON ``path`` in the
    document), an optional fix ``hint``, and ``related`` places (the other definition of a
    duplicate, say). Messages and hints are scrubbed of key-shaped text, except inside the
    ``verbatim`` texts (what the caller asked for, such as a model specifier, which is no
    secret). ``suppressed`` says who silenced a warning or note: ``"inSource"`` (a
    ``# flue-decl: ignore[...]`` comment) or ``"external"`` (the settings file), as SARIF
    names them; None: reported."""

    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    hint: str | None = None
    related: tuple[Place, ...] = ()
    suppressed: str | None = None
    verbatim: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The one place every message passes: nothing key-shaped leaves in one.
        object.__setattr__(self, "message", scrub(self.message, self.verbatim))
        if self.hint is not None:
            object.__setattr__(self, "hint", scrub(self.hint, self.verbatim))

    @classmethod
    def at(
        cls,
        code: str,
        message: str,
        place: Place | None,
        path: JsonPath | None = None,
        *,
        hint: str | None = None,
        severity: Severity = Severity.ERROR,
        related: Sequence[Place] = (),
        verbatim: Sequence[str] = (),
    ) -> Diagnostic:
        return cls(
            severity=severity,
            code=code,
            message=message,
            file=place.file if place else None,
            line=place.line if place else None,
            column=place.column if place else None,
            path=format_path(path) if path is not None else None,
            hint=hint,
            related=tuple(related),
            verbatim=tuple(verbatim),
        )

    @property
    def location(self) -> str:
        if self.file is None:
            return "<input>"
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    def __str__(self) -> str:
        text = f"{self.severity.value}[{self.code}]: {self.message}"
        if self.file is not None:  # a problem with no place (an unresolved specifier) has none
            text = f"{self.location}: {text}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.code)

    def encoded(self) -> dict[str, Any]:
        """Every field, JSON types only: what :meth:`decoded` reads back (the validation
        cache and a reload's compiler process hand diagnostics over so)."""
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "hint": self.hint,
            "related": [[p.file, p.line, p.column] for p in self.related],
            "suppressed": self.suppressed,
            "verbatim": list(self.verbatim),
        }

    @classmethod
    def decoded(cls, data: Mapping[str, Any]) -> Diagnostic:
        return cls(
            Severity(data["severity"]),
            str(data["code"]),
            str(data["message"]),
            data["file"],
            data["line"],
            data["column"],
            data["path"],
            data["hint"],
            tuple(Place(str(f), int(line), int(col)) for f, line, col in data["related"]),
            data["suppressed"],
            tuple(str(v) for v in data.get("verbatim", ())),
        )


class FlueDeclError(Exception):
    """Base of every error flue-decl raises; ``diagnostics`` says what and where."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        shown = errors or list(self.diagnostics)
        head = str(shown[0]) if shown else "configuration error"
        more = f" (and {len(shown) - 1} more)" if len(shown) > 1 else ""
        super().__init__(head + more)


    def without_frames(self) -> FlueDeclError:
        """This error with no traceback and no chained exception: what leaves flue-decl's
        public functions (see :func:`frames_dropped`)."""
        self.__traceback__ = None
        self.__cause__ = None
        self.__context__ = None
        self.__suppress_context__ = True
        return self


P = ParamSpec("P")
R = TypeVar("R")


def frames_dropped(function: Callable[P, R]) -> Callable[P, R]:
    """A public function whose refusals leave without flue-decl's frames: those hold the
    environment, rendered values and keys, and an error reporter that captures locals
    (Sentry, ``TracebackException(capture_locals=True)``) would send them. The error keeps
    its diagnostics; this frame lets go of the caller's arguments (``env=`` among them)
    before it raises. Any other exception (a misuse, a bug) keeps its traceback for where
    it happened, every frame's variables cleared."""

    @functools.wraps(function)
    def public(*args: P.args, **kwargs: P.kwargs) -> R:
        error: BaseException
        try:
            return function(*args, **kwargs)
        except FlueDeclError as exc:
            error = exc.without_frames()
        except Exception as exc:  # a misuse (TypeError...) or a bug: where stays, what goes
            seen: set[int] = set()
            import traceback  # here: every command imports this module, few raise

            chain: list[BaseException | None] = [exc]
            while chain:  # the whole chain, once each (a chain can loop)
                cause = chain.pop()
                if cause is None or id(cause) in seen:
                    continue
                seen.add(id(cause))
                traceback.clear_frames(cause.__traceback__)
                chain += [cause.__cause__, cause.__context__]
            error = exc
        del args, kwargs
        raise error

    return public


class ConfigError(FlueDeclError):
    """The configuration is refused (loading, validating, rendering): nothing was loaded,
    or, for a watch, the last good registry keeps serving."""


class InputError(ConfigError):
    """An input path is missing, unreadable, or not a directory or file."""


class SettingsError(InputError):
    """The settings file cannot be read, is not TOML, or has an unknown key, a wrong type or
    a code that does not exist (or is an error, which no setting may hide)."""


class ValidationError(ConfigError):
    """The configuration is not valid: syntax, schema, semantic or layering."""


class TemplateError(ConfigError):
    """A template could not be rendered against the environment."""


class ReloadError(ConfigError):
    """A reload failed for a reason outside the tree (its compiler process could not start,
    or died): a watch keeps the last good registry and tries the same tree again."""


class ResolveError(FlueDeclError):
    """A model specifier does not resolve."""


class ClientError(FlueDeclError):
    """No HTTP client can be made for a model (an API that is not plain HTTP, an unsafe
    transport)."""


def did_you_mean(
    word: str, candidates: Iterable[str], *, prefix: str = "", suffix: str = ""
) -> str | None:
    """A hint naming the closest candidates (up to three, compared without case), if any is
    close enough to be a likely typo: ``did you mean `openai`?``; each shown between
    ``prefix`` and ``suffix`` (``anthropic/`` before a model ID, ``/gpt-4o`` after a
    provider's)."""
    pool = list(dict.fromkeys(candidates))
    lowered: dict[str, str] = {}
    for candidate in pool:
        lowered.setdefault(candidate.lower(), candidate)
    key = word.lower()
    if key in lowered and lowered[key] != word:
        return f"did you mean `{prefix}{lowered[key]}{suffix}`?"
    import difflib  # only when there is a misspelling to explain: not at a service start

    close = difflib.get_close_matches(key, list(lowered), n=3, cutoff=0.75)
    names = [f"`{prefix}{lowered[m]}{suffix}`" for m in close if lowered[m] != word]
    if not names:
        return None
    shown = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"did you mean {shown}?"
