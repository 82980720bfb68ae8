"""flue-decl: providers.d YAML compiled into Flue registry calls, resolved like Flue's runtime.

>>> from flue_decl import load_registry
>>> registry = load_registry(["providers.d"])            # doctest: +SKIP
>>> registry.resolve_model("ollama/llama3.1:8b").to_dict()  # doctest: +SKIP

The package has two sides. ``flue_decl.compiler`` turns YAML trees into checked registry
calls; ``flue_decl.runtime`` builds a :class:`Registry` from calls and serves it. The names
that need the compiler (or httpx) are imported the first time they are used, so that a
service starting from a compiled artifact loads neither.
"""

import typing as _typing

from ._catalog import PI_APIS, Catalog, builtin_catalog
from ._domain import Call, Op, Origin
from ._errors import (
    ClientError,
    ConfigError,
    Diagnostic,
    InputError,
    Place,
    ResolveError,
    Severity,
    TemplateError,
    ValidationError,
)
from ._protocol import WireProtocol
from ._secrets import Secret
from ._version import __version__
from .runtime import Model, Registry, Snapshot, Watch, load_artifact

if _typing.TYPE_CHECKING:
    from ._load import load_registry, watch
    from .compiler import Compilation, bundled_schema, compile_paths
    from .runtime._clients import CrossOriginRequestError

# Name -> the module that has it: the compile side, and httpx for the client error.
_ON_FIRST_USE = {
    "Compilation": "flue_decl.compiler",
    "bundled_schema": "flue_decl.compiler",
    "compile_paths": "flue_decl.compiler",
    "load_registry": "flue_decl._load",
    "watch": "flue_decl._load",
    "CrossOriginRequestError": "flue_decl.runtime._clients",
}


def __getattr__(name: str) -> _typing.Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'flue_decl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ON_FIRST_USE})


__all__ = [
    "PI_APIS",
    "Call",
    "Catalog",
    "ClientError",
    "Compilation",
    "ConfigError",
    "CrossOriginRequestError",
    "Diagnostic",
    "InputError",
    "Model",
    "Op",
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
