"""The service side: a Registry built from compiled calls, and what services do with it.

``_registry`` (resolution exactly as Flue's runtime), ``_build`` (render calls, import
handlers, apply them), ``_artifact`` (the compiled artifact, written and read),
``_watch`` (hot reload), ``_clients`` (httpx clients, imported when a client is asked
for) and ``_probe``. Nothing here imports the compiler: a service that starts from an
artifact loads no YAML, schema or lint code, and a test walks the imports to keep it so.
"""

from ._artifact import artifact_text, load_artifact, read_artifact
from ._build import build_registry, select_calls
from ._handlers import handler_allow_list, handler_import_error, not_allowed
from ._model import Model
from ._registry import Registry
from ._render import render_calls, render_or_raise

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._watch import Snapshot, Source, Watch


def __getattr__(name: str) -> object:
    if name in ("Snapshot", "Source", "Watch"):  # hot reload's: on first use
        from . import _watch

        return getattr(_watch, name)
    raise AttributeError(f"module 'flue_decl.runtime' has no attribute {name!r}")


del TYPE_CHECKING


__all__ = [
    "Model",
    "Registry",
    "Snapshot",
    "Source",
    "Watch",
    "artifact_text",
    "build_registry",
    "handler_allow_list",
    "handler_import_error",
    "load_artifact",
    "not_allowed",
    "read_artifact",
    "render_calls",
    "render_or_raise",
    "select_calls",
]
