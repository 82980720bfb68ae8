"""flue-decl: providers.d YAML compiled into Flue registry calls, resolved like Flue's runtime.

>>> from flue_decl import load_registry
>>> registry = load_registry(["providers.d"])            # doctest: +SKIP
>>> registry.resolve_model("ollama/llama3.1:8b").to_dict()  # doctest: +SKIP

The package has two sides. ``flue_decl.compiler`` turns YAML trees into checked registry
calls; ``flue_decl.runtime`` builds a :class:`Registry` from calls and serves it; nothing
on the runtime side imports the compiler (a test reads every import to keep it so).
The public names below are imported the first time they are used: a service starting
from an artifact loads no compiler, and the command line (``flue_decl.cli``, inside this
package) pays only for the command it runs.
"""

from ._version import __version__

TYPE_CHECKING = False  # typing itself is not imported: a replayed command is that quick
if TYPE_CHECKING:
    from ._catalog import PI_APIS, Catalog, builtin_catalog
    from ._domain import Call, Op, Origin
    from ._errors import (
        ClientError,
        ConfigError,
        Diagnostic,
        FlueDeclError,
        InputError,
        Place,
        ReloadError,
        ResolveError,
        SettingsError,
        Severity,
        TemplateError,
        ValidationError,
    )
    from ._load import load_registry, watch
    from ._protocol import WireProtocol
    from ._secrets import Secret
    from ._service import ServiceOptions
    from .compiler import Compilation, bundled_schema, compile_paths
    from .runtime import Model, Registry, Snapshot, Watch, load_artifact
    from .runtime._clients import CrossOriginRequestError

# Public name -> the module that defines it.
_ON_FIRST_USE = {
    **dict.fromkeys(
        (
            "ClientError",
            "ConfigError",
            "Diagnostic",
            "FlueDeclError",
            "InputError",
            "Place",
            "ReloadError",
            "ResolveError",
            "SettingsError",
            "Severity",
            "TemplateError",
            "ValidationError",
        ),
        "flue_decl._errors",
    ),
    "PI_APIS": "flue_decl._catalog",
    "Catalog": "flue_decl._catalog",
    "builtin_catalog": "flue_decl._catalog",
    "Call": "flue_decl._domain",
    "Op": "flue_decl._domain",
    "Origin": "flue_decl._domain",
    "WireProtocol": "flue_decl._protocol",
    "Secret": "flue_decl._secrets",
    "ServiceOptions": "flue_decl._service",
    "Model": "flue_decl.runtime",
    "Registry": "flue_decl.runtime",
    "Snapshot": "flue_decl.runtime",
    "Watch": "flue_decl.runtime",
    "load_artifact": "flue_decl.runtime",
    "CrossOriginRequestError": "flue_decl.runtime._clients",  # httpx
    "Compilation": "flue_decl.compiler",
    "bundled_schema": "flue_decl.compiler",
    "compile_paths": "flue_decl.compiler",
    "load_registry": "flue_decl._load",
    "watch": "flue_decl._load",
}


def __getattr__(name: str) -> object:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'flue_decl' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ON_FIRST_USE} - {"TYPE_CHECKING"})


del TYPE_CHECKING


__all__ = [
    "PI_APIS",
    "Call",
    "Catalog",
    "ClientError",
    "Compilation",
    "ConfigError",
    "CrossOriginRequestError",
    "Diagnostic",
    "FlueDeclError",
    "InputError",
    "Model",
    "Op",
    "Origin",
    "Place",
    "Registry",
    "ReloadError",
    "ResolveError",
    "Secret",
    "ServiceOptions",
    "SettingsError",
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
