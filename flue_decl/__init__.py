"""flue-decl: providers.d YAML compiled into Flue registry calls, resolved like Flue's runtime.

>>> from flue_decl import load_registry
>>> registry = load_registry(["providers.d"])            # doctest: +SKIP
>>> registry.resolve_model("ollama/llama3.1:8b").to_dict()  # doctest: +SKIP
"""

from ._artifact import load_artifact
from ._catalog import PI_APIS, Catalog, builtin_catalog
from ._compile import Call
from ._errors import (
    ConfigError,
    Diagnostic,
    InputError,
    Place,
    ResolveError,
    Severity,
    TemplateError,
    ValidationError,
)
from ._pipeline import Compilation, compile_paths, load_registry
from ._protocol import WireProtocol
from ._registry import Model, Origin, Registry
from ._schema import bundled_schema
from ._secrets import Secret
from ._version import __version__
from ._watch import Snapshot, Watch, watch

__all__ = [
    "PI_APIS",
    "Call",
    "Catalog",
    "Compilation",
    "ConfigError",
    "Diagnostic",
    "InputError",
    "Model",
    "Origin",
    "Place",
    "Registry",
    "ResolveError",
    "Secret",
    "Severity",
    "Snapshot",
    "TemplateError",
    "ValidationError",
    "Watch",
    "WireProtocol",
    "__version__",
    "builtin_catalog",
    "bundled_schema",
    "compile_paths",
    "load_artifact",
    "load_registry",
    "watch",
]
