"""``check-handlers``: would every ApiProvider handler load in a service with this allow-list?

The handlers are imported in a child process (``python -P``: the working directory is
not put on its path), so the checker never runs the code it checks, and a handler that
prints, exits or hangs cannot disturb the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from .._domain import Call, Op
from .._errors import Diagnostic, Severity
from ..runtime import handler_allow_list, handler_import_error, not_allowed
from ._args import Args
from ._inputs import compiled
from ._options import options
from ._outcome import OK, PROBLEMS
from ._reporters import REPORTERS, resolve_format

# The child: the handlers as JSON in the file argv[1] (a command line has a length limit);
# one JSON line per handler checked, written to the file argv[2] as it goes, so a handler
# that hangs is known by where the lines stop.
_CHILD = (
    "import json, sys\n"
    "from flue_decl.runtime._handlers import handler_problems\n"
    "with open(sys.argv[1], encoding='utf-8') as fh:\n"
    "    handlers = json.load(fh)\n"
    "with open(sys.argv[2], 'w', encoding='utf-8') as fh:\n"
    "    for line in handler_problems(handlers):\n"
    "        fh.write(json.dumps(line) + '\\n')\n"
    "        fh.flush()\n"
)


def run(args: Args) -> int:
    compilation = compiled(args)
    allowed = handler_allow_list(options(args).handler_modules)
    diagnostics, to_import = [], []
    for call in compilation.calls:
        if call.op == Op.REGISTER_API_PROVIDER:
            refusal = not_allowed(call, allowed)
            if refusal is None:
                to_import.append(call)
            else:
                diagnostics.append(refusal)
    if to_import:
        diagnostics += _import_in_child(to_import, args.timeout)
    diagnostics.sort(key=Diagnostic.sort_key)
    failed = any(d.severity is Severity.ERROR for d in diagnostics)
    reporter = REPORTERS[resolve_format(options(args).format)](sys.stdout)
    reporter.report(diagnostics, ok=not failed, files=compilation.files)
    return PROBLEMS if failed else OK


def _report_line(line: str) -> tuple[str, tuple[str, str] | None]:
    """One line of the child's report; ValueError for anything else."""
    data = json.loads(line)
    match data:
        case [str(handler), None]:
            return handler, None
        case [str(handler), [str(why), str(hint)]]:
            return handler, (why, hint)
    raise ValueError("not a report line")


def _import_in_child(calls: list[Call], timeout: float) -> list[Diagnostic]:
    handlers = list(dict.fromkeys(str(c.payload.get("handler", "")) for c in calls))
    problems: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="flue-decl-handlers-") as work:
        report = os.path.join(work, "problems.jsonl")
        asked = os.path.join(work, "handlers.json")
        with open(asked, "w", encoding="utf-8") as fh:
            json.dump(handlers, fh)
        try:
            subprocess.run(
                [sys.executable, "-P", "-c", _CHILD, asked, report],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
            stopped = "the process importing it ended first"
        except subprocess.TimeoutExpired:
            stopped = f"importing it did not finish within {timeout:g} s"
        checked = set()
        try:
            with open(report, encoding="utf-8") as fh:
                for line in fh:
                    # A handler's code can write to this file too: trust only the shape.
                    handler, problem = _report_line(line)
                    checked.add(handler)
                    if problem is not None:
                        problems[handler] = problem
        except (OSError, ValueError):
            pass  # no report, or a line that is not ours: what is missing is said below
    unchecked = [h for h in handlers if h not in checked]
    for index, handler in enumerate(unchecked):
        problems[handler] = (
            (stopped, "find what the module does when it is imported")
            if index == 0
            else ("not checked: an earlier handler stopped the check", "fix that one first")
        )
    return [
        handler_import_error(c, *problems[h])
        for c in calls
        if (h := str(c.payload.get("handler", ""))) in problems
    ]
