"""``needs``: every environment variable and secret file the tree reads, as a list for
people, JSON, a ``.env.example``, or the ``env``/``volumes`` of a Kubernetes container.

Light at import: the parser reads ``NEEDS_FORMATS`` before any command runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .._errors import Diagnostic, InputError
from .._inert import inert_json
from ._args import Args
from ._outcome import OK

if TYPE_CHECKING:
    from ..views._needs import Need

# A name both a container variable and a ConfigMap or Secret key can have.
_C_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
K8S_DEFAULT = "flue-decl"  # the Secret and ConfigMap a container's variables come from
_VOLUME = "flue-decl-secrets"


class Needed(NamedTuple):
    """What a format shows: the needs, where secret files are read, the Kubernetes names."""

    needs: Sequence[Need]
    secrets_dir: str
    k8s_secret: str
    k8s_configmap: str


def run(args: Args) -> int:
    from .._catalog import builtin_catalog
    from ..runtime._secretfiles import secrets_dir
    from ..views._needs import needs
    from ._inputs import compiled
    from ._options import options

    found = needs(compiled(args).calls, builtin_catalog(), args.provider)
    shown = Needed(
        found,
        secrets_dir(options(args).secrets_dir),
        args.k8s_secret or K8S_DEFAULT,
        args.k8s_configmap or K8S_DEFAULT,
    )
    print(NEEDS_FORMATS[args.format or "text"](shown))
    return OK


def _flags(need: Need) -> str:
    words = ["required" if need.required else "optional"]
    if need.credential:
        words.append("credential")
    if need.builtin:
        words.append("read by the runtime itself")
    return ", ".join(words)


def needs_text(shown: Needed) -> str:
    from ._formats import inert

    lines: list[str] = []
    for kind, title in (("env", "environment variables"), ("secret", "secret files")):
        rows = [n for n in shown.needs if n.kind == kind]
        if not rows:
            continue
        where = f" (in {shown.secrets_dir})" if kind == "secret" else ""
        lines.append(f"{title}{where}:")
        width = max(len(n.name) for n in rows)
        lines += [
            f"  {n.name.ljust(width)}  {_flags(n)}; for {', '.join(n.providers)}" for n in rows
        ]
    return inert(lines) if lines else "nothing: no template reads a variable or secret file"


def needs_json(shown: Needed) -> str:
    data = {
        "env": [n.to_json() for n in shown.needs if n.kind == "env"],
        "secrets": [n.to_json() for n in shown.needs if n.kind == "secret"],
    }
    # The same JSON value, but no `##[` a CI runner would take for a command.
    return inert_json(json.dumps(data, indent=2, ensure_ascii=True))


def needs_dotenv(shown: Needed) -> str:
    """``NAME=`` per required variable, ``# NAME=`` per optional one (set empty, it would
    replace its default), each after a comment naming its providers: a ``.env.example``.
    A name no shell could set is said in a comment."""
    from ._formats import inert

    lines: list[str] = []
    for need in shown.needs:
        if need.kind != "env":
            continue
        if not _C_NAME.fullmatch(need.name):
            lines.append(f"# {json.dumps(need.name)}: not a name a .env file can set")
            continue
        lines.append(f"# {_flags(need)}; for {', '.join(need.providers)}")
        lines.append(f"{need.name}=" if need.required else f"# {need.name}=")
    return inert(lines)


def needs_k8s(shown: Needed) -> str:
    """A container's ``env`` (credentials from the Secret, the rest from the ConfigMap),
    and, when secret files are read, the volume that mounts the Secret where they are
    read (and ``FLUE_DECL_SECRETS_DIR`` when that is not the default)."""
    from ..runtime._secretfiles import DEFAULT_SECRETS_DIR, SECRETS_DIR_ENV
    from ._formats import inert

    env: list[dict[str, Any]] = []
    skipped: list[str] = []
    for need in shown.needs:
        if need.kind != "env":
            continue
        if not _C_NAME.fullmatch(need.name):  # neither a container variable nor a key
            skipped.append(f"# {json.dumps(need.name)}: not a name a container variable has")
            continue
        source, name = (
            ("secretKeyRef", shown.k8s_secret)
            if need.credential
            else ("configMapKeyRef", shown.k8s_configmap)
        )
        ref: dict[str, Any] = {"name": name, "key": need.name}
        if not need.required:
            ref["optional"] = True
        env.append({"name": need.name, "valueFrom": {source: ref}})
    out: dict[str, Any] = {"env": env}
    if any(n.kind == "secret" for n in shown.needs):
        where = shown.secrets_dir
        if not where.startswith("/"):
            raise InputError(
                [
                    Diagnostic.at(
                        "input-not-found",
                        f"the secrets directory `{where}` is relative: a container mounts "
                        "its secret files at an absolute path",
                        None,
                        hint="set secrets-dir (or FLUE_DECL_SECRETS_DIR) to an absolute path",
                    )
                ]
            )
        if where != DEFAULT_SECRETS_DIR:
            env.append({"name": SECRETS_DIR_ENV, "value": where})
        out["volumes"] = [{"name": _VOLUME, "secret": {"secretName": shown.k8s_secret}}]
        out["volumeMounts"] = [{"name": _VOLUME, "mountPath": where, "readOnly": True}]
    return inert([*skipped, *_yaml(out, 0)])


def _yaml(value: Any, indent: int) -> list[str]:
    """Block YAML of mappings, lists, strings and booleans; every string JSON-quoted (a
    YAML double-quoted scalar), so no value can be read as another type or as syntax."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                lines.append(f"{pad}{key}:" + (" []" if item == [] else ""))
                lines += _yaml(item, indent + 2)
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    else:
        for item in value:
            nested = _yaml(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines += nested[1:]
    return lines


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=True)


NEEDS_FORMATS: dict[str, Callable[[Needed], str]] = {
    "text": needs_text,
    "json": needs_json,
    "dotenv": needs_dotenv,
    "k8s": needs_k8s,
}
