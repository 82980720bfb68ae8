"""The command line, parsed: one typed object for every command.

``parse`` turns argparse's namespace into :class:`Args`; a field a command does not take
keeps its default. A test checks that every option the parser defines is a field here,
so a new option cannot be read by a name nobody declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._settingkeys import Settings


@dataclass(slots=True)
class Args:
    """Every command's options (see ``_parser``), and what a run learns on the way."""

    command: str
    # Where the tree is and how to read it.
    paths: list[str] | None = None
    config: list[str] | None = None
    settings: str | None = None
    isolated: bool = False
    strict: bool | None = None
    known_provider: list[str] | None = None
    max_file_bytes: int | None = None
    handler_modules: str | None = None
    no_cache: bool = False
    jobs: int | None = None  # None: as many as the CPUs, at most 4 (``_options.jobs``)
    # What to show, and where.
    format: str | None = None  # None: validate's and check-env's from the settings
    output: str | None = None
    show_secrets: bool = False
    catalog: bool = False
    provider: list[str] | None = None
    # Each set by the parser for the commands that read it (explain's spec, emit's target,
    # probe's timeout ...): the defaults here are never read.
    spec: str = ""
    specs: list[str] = field(default_factory=list)
    sign_key_env: str | None = None
    target: str = ""
    timeout: float = 0.0
    k8s_secret: str | None = None
    k8s_configmap: str | None = None
    # diff's two sides.
    old: str | None = None
    new: str | None = None
    old_layers: list[str] | None = None
    new_layers: list[str] | None = None
    old_ref: str | None = None
    new_ref: str | None = None
    # Learnt while running: for the summary line if a later step fails, and the settings
    # read once.
    files_read: int = 0
    effective_settings: Settings | None = None
    # The words given (for a replay's record: ``_replay``), and whether a note went to
    # stderr on the way (a run that said one is not replayed).
    argv: list[str] | None = None
    noted: bool = False
