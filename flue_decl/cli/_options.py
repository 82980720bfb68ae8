"""The effective settings of a command: what its command line gives, over the settings
file, over the defaults (``flue_decl._settings``); and the ``settings`` command, which shows
them. Light on purpose: ``validate`` answered from its cache imports no compiler."""

from __future__ import annotations

import json
import sys

from .._inert import inert_json
from .._secrets import scrub
from .._settingkeys import KEYS, Settings
from .._settings import find_settings, settings_for, untrusted
from ._args import Args
from ._outcome import OK
from ._reporters import inert_line, visible

# The commands whose output is a reporter's (--format text|json|github|sarif|auto).
REPORTING = frozenset({"validate", "check-env", "check-handlers"})


def given_paths(args: Args) -> list[str]:
    """The paths named on the command line (positional, or ``-c``), in order."""
    return [*(args.paths or []), *(args.config or [])]


def options(args: Args) -> Settings:
    """The effective settings of this run: what the command line gives, over the settings
    file (``--settings FILE``; none with ``--isolated``; else the nearest one found from
    the current directory), over the defaults. Raises SettingsError for a bad file."""
    cached: Settings | None = args.effective_settings
    if cached is not None:
        return cached
    file = args.settings if args.settings else None if args.isolated else find_settings()
    distrust = untrusted(file) if file and not args.settings else None
    if distrust is not None:
        args.noted = True
        print(
            inert_line(
                f"flue-decl: note: not using the settings file {visible(file or '')}: "
                f"{distrust} (name it with --settings to use it)"
            ),
            file=sys.stderr,
        )
        file = None
    modules = args.handler_modules
    known = args.known_provider
    chosen = settings_for(
        file,
        paths=tuple(given_paths(args)) or None,
        strict=args.strict,
        known_providers=tuple(known) if known else None,
        max_file_bytes=args.max_file_bytes,
        handler_modules=None if modules is None else tuple(modules.split(",")),
        format=args.format if args.command in REPORTING else None,
    )
    args.effective_settings = chosen
    return chosen


MAX_JOBS = 4  # past two the parse's share of a run is small: more processes, little sooner


def jobs(args: Args) -> int:
    """How many processes may share the work of a tree (``--jobs``, else ``MAX_JOBS``); the
    compiler uses no more than the CPUs this process may run on (``_spread.usable``)."""
    return args.jobs if args.jobs is not None else MAX_JOBS


def show_settings(args: Args) -> int:
    """``settings``: every key's effective value and the source it came from."""
    chosen = options(args)
    values = chosen.as_json()
    values["paths"] = list(chosen.layers())  # what an unset `paths` means: providers.d
    # Key-shaped text is masked here as in every diagnostic: a key pasted into the wrong
    # setting is not repeated.
    if args.format == "json":
        data = {"settings": values, "sources": dict(chosen.sources)}
        print(inert_json(scrub(json.dumps(data, indent=2))))
        return OK
    print(inert_line(f"settings file: {visible(scrub(chosen.file or '(none)'))}"))
    shown = {key: scrub(json.dumps(values[key])) for key in KEYS}  # ASCII: no control
    width, value_width = max(map(len, KEYS)), max(map(len, shown.values()))
    for key in KEYS:
        source = visible(scrub(chosen.sources[key]))
        print(inert_line(f"{key:<{width}}  {shown[key]:<{value_width}}  {source}"))
    return OK
