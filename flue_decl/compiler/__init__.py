"""The compile side: providers.d trees to checked, ordered registry calls.

discover (``flue_decl._discover``) → ``_parse`` (libyaml events to values with places) →
``_layer`` (documents merged into entities) → ``_schema`` (``_fastcheck`` first) →
``_checks`` and ``_lints`` → ``_calls`` (the ordered calls, each field with its origin);
``_pipeline`` wires them; ``_emit`` writes the calls as a module for Flue apps. Nothing on
the service side imports this package: a service that starts from a compiled artifact never
loads YAML, schema or lint code.
"""

from ._calls import literal_secrets
from ._emit import TARGETS as EMIT_TARGETS
from ._emit import module_text
from ._pipeline import Compilation, compile_paths, load_calls
from ._schemafiles import bundled_schema

__all__ = [
    "EMIT_TARGETS",
    "Compilation",
    "bundled_schema",
    "compile_paths",
    "literal_secrets",
    "load_calls",
    "module_text",
]
