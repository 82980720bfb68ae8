"""A registry's calls from an artifact's ``start`` lines, the calls themselves left unread.

An artifact written by this flue-decl (``Calls.current``) was compiled under today's rules:
its literal values were checked then, and its credential paths worked out then (a call's
line of ``start``, see ``_lines.START_PLAIN_HTTP``). Loading it renders each call's
templates from that line and checks their values as :class:`Rendering` checks any call's;
the call's own line is kept as it is and decoded when its provider is first read
(``_stored``). The transport rule across calls (``Rendering.finish``) reads only the
providers whose base URL may travel in clear: one rendered to anything but ``https://...``,
or a literal one the artifact's lines may hold (``Calls.clear``: one that is not https,
or any JSON escape, which could spell one; a URL edited by hand too, checked again then);
every other provider's is https or absent, and sends nothing in clear. ApiProvider calls,
calls of a custom protocol, and calls whose templates do not render are decoded whole and
handled as any call is.

A line of ``calls`` is decoded when its provider is first read, not at load: a line an
artifact re-checksummed by hand broke is refused then (``artifact-invalid``). An artifact of
another flue-decl is loaded call by call (``Rendering``), every line decoded and its literal
values held to today's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .._domain import Call, Op
from .._urls import RENDERED_CONTROL, SURE_TLS, url_problem
from ..templates import is_template
from ._lines import START_PLAIN_HTTP, Calls
from ._render import Rendering, check_rendered
from ._stored import Kept

_URL = ["baseUrl"]  # a path as a start line has it
_URL_PATH = ("baseUrl",)
_CONTROL = re.compile(RENDERED_CONTROL)
# What a start line reads alone: a registration or a configuration.
_KEPT = (Op.REGISTER_PROVIDER.value, Op.CONFIGURE_PROVIDER.value)


def lean(rendering: Rendering, calls: Calls) -> Iterator[Call | Kept]:
    """The calls of ``calls`` (a current artifact's), rendered: each a :class:`Kept`, or
    (ApiProviders, custom protocols' calls) a rendered :class:`Call` with ``rendering``'s
    ``line`` and ``values`` set, as ``Rendering`` gives it."""
    targets: list[str] = []  # in order, for the transport rule's second look
    clear: set[str] = set()  # providers whose base URL may be in clear
    results, diagnostics = rendering.result, rendering.diagnostics
    for index, (lines, (op, target, flags, templates, _)) in enumerate(calls.starts()):
        targets.append(target)
        if index in calls.clear:
            clear.add(target)
        if op not in _KEPT or target in rendering.custom:
            yield rendering.one(calls.call(lines), lines[1])
            continue
        values: list[str] = []
        for at in range(0, len(templates), 2):
            path, source = templates[at], templates[at + 1]
            value, missing, problem = results(source)
            if missing or problem is not None:
                rendering.report(calls.call(lines), tuple(path), missing, problem)
                continue
            assert value is not None
            values.append(value)
            if path == _URL:
                if not value.startswith(SURE_TLS):
                    clear.add(target)
                refused = url_problem(value) is not None
            else:
                refused = _CONTROL.search(value) is not None
            if refused:
                call = calls.call(lines)
                diagnostics.extend(check_rendered(tuple(path), source, value, call, False))
        plain_http = bool(flags & START_PLAIN_HTTP)
        if plain_http:
            rendering.allowed.add(target)
        origins = (calls.path, *lines, calls.table)
        yield Kept(op, target, lines[1], lines[0], tuple(values), origins, plain_http)
    for lines, target in zip(calls.lines(), targets, strict=True):
        if target in clear and target not in rendering.custom:
            call = calls.call(lines)
            if call.op == Op.REGISTER_API_PROVIDER:
                continue
            base_url = call.payload.get("baseUrl")
            if isinstance(base_url, str) and not is_template(base_url):  # edited by hand?
                diagnostics.extend(check_rendered(_URL_PATH, base_url, base_url, call, False))
            rendering.keep_for_rule(call, rendering.render_quietly(call))
