"""flue-decl: providers.d YAML compiled into Flue registry calls, resolved like Flue's runtime.

>>> from flue_decl import load_registry
>>> registry = load_registry(["providers.d"])            # doctest: +SKIP
>>> registry.resolve_model("ollama/llama3.1:8b").to_dict()  # doctest: +SKIP
"""

import typing as _typing

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
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._artifact import load_artifact
    from ._catalog import PI_APIS, Catalog, builtin_catalog
    from ._compile import Call
    from ._pipeline import Compilation, compile_paths, load_registry
    from ._protocol import WireProtocol
    from ._registry import Model, Origin, Registry
    from ._schema import bundled_schema
    from ._secrets import Secret
    from ._watch import Snapshot, Watch, watch

# Everything but the errors is imported on first use (PEP 562): a service that starts
# from a compiled artifact loads only what it runs, and the command line's cached path
# none of the compile machinery.
_LAZY = {
    "load_artifact": "_artifact",
    "PI_APIS": "_catalog",
    "Catalog": "_catalog",
    "builtin_catalog": "_catalog",
    "Call": "_compile",
    "Compilation": "_pipeline",
    "compile_paths": "_pipeline",
    "load_registry": "_pipeline",
    "WireProtocol": "_protocol",
    "Model": "_registry",
    "Origin": "_registry",
    "Registry": "_registry",
    "bundled_schema": "_schema",
    "Secret": "_secrets",
    "Snapshot": "_watch",
    "Watch": "_watch",
    "watch": "_watch",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flue_decl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
