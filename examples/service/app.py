"""A small service that starts from providers.d with flue_decl.watch.

    FLUE_DECL_PATHS=providers.d PORT=8080 python examples/service/app.py

GET /healthz            reload status: generation, last_reload_ok, last_error (with places)
GET /providers          the registry's providers and their declared models
GET /forward?model=SPEC&path=PATH
                        forwards one GET through registry.http_client(SPEC) and returns the
                        upstream status and body (keys stay in the request, never in output)

Binds 127.0.0.1 unless HOST says otherwise; PORT=0 picks a free port (printed on start).
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flue_decl import ClientError, ConfigError, ResolveError, Watch, watch


def health(live: Watch) -> dict[str, Any]:
    snap = live.snapshot()
    errors = [str(d) for d in snap.last_error.diagnostics] if snap.last_error else []
    return {
        "status": "ok" if snap.last_reload_ok else "degraded",  # degraded: still serving
        "generation": snap.generation,
        "last_reload_ok": snap.last_reload_ok,
        "last_success_time": snap.last_success_time,
        "last_error": errors,
    }


def providers(live: Watch) -> dict[str, Any]:
    registry = live.registry
    out = []
    for pid in registry.registered_providers():
        reg = registry.registration(pid) or {}
        out.append(
            {
                "id": pid,
                "kind": "registered",
                "api": reg.get("api"),
                "models": sorted(reg.get("models") or {}),
            }
        )
    for pid in registry.configured_providers():
        if pid not in registry.registered_providers():
            out.append(
                {
                    "id": pid,
                    "kind": "configured built-in",
                    "models": sorted(registry.catalog.models(pid)),
                }
            )
    return {"providers": out}


def forward(live: Watch, spec: str, path: str) -> tuple[int, dict[str, Any]]:
    try:
        client = live.registry.http_client(spec, timeout=10.0)
    except (ResolveError, ClientError) as exc:  # a request's mistake, not a refused tree
        return 400, {"error": [str(d) for d in exc.diagnostics]}
    with client:
        response = client.get(path)
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return 200, {"upstream_status": response.status_code, "body": body}


def make_handler(live: Watch) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/healthz":
                self.reply(200, health(live))
            elif url.path == "/providers":
                self.reply(200, providers(live))
            elif url.path == "/forward" and "model" in query:
                self.reply(*forward(live, query["model"], query.get("path", "")))
            else:
                self.reply(404, {"error": "not found"})

        def reply(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def main() -> int:
    paths = os.environ.get("FLUE_DECL_PATHS", "providers.d").split(os.pathsep)
    try:
        live = watch(
            paths,
            interval=float(os.environ.get("WATCH_INTERVAL", "1.0")),
            # The code a providers.d file may name as a protocol handler: ours, no other.
            handler_modules=["acme_llm"],
        )
    except ConfigError as exc:  # the first tree must be good: say why and do not start
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        return 1
    server = ThreadingHTTPServer(
        (os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))),
        make_handler(live),
    )
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"listening on http://{host}:{port}", flush=True)
    with live:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
