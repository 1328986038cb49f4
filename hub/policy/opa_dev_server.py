"""A small local stand-in for an OPA server, for development and tests.

There is no OPA binary on the project's machines. This serves the part of OPA's
REST API that opa-python-client uses (``PUT/GET/DELETE /v1/policies/{id}``,
``POST /v1/data/{path}``, ``GET /health``) and evaluates with the real OPA engine
from the ``opa-golib-python-bindings`` wheel (an optional, development-only
dependency: ``pip install --no-deps --ignore-requires-python
opa-golib-python-bindings``). Production points the hub at a real OPA server.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ERR_LOC = re.compile(r"(?P<file>[^\s:]+\.rego):(?P<row>\d+)(?::(?P<col>\d+))?: (?P<code>[a-z_]+): (?P<msg>[^\n]+)")


class OpaDevServer:
    """Serve OPA's REST API on 127.0.0.1:<port> (0 picks a free port) in a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        from opa_bindings import OpaEngine  # optional dependency, imported when used

        self._engine_class = OpaEngine
        self._modules: dict[str, str] = {}
        self._engine = OpaEngine()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as OPA; every answer has Content-Length

            def setup(self) -> None:
                super().setup()
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/health":
                    self._send(200, {})
                elif path.rstrip("/") == "/v1/policies":
                    self._send(200, {"result": [{"id": k, "raw": v} for k, v in server.modules().items()]})
                elif path.startswith("/v1/policies/"):
                    pid = path[len("/v1/policies/") :]
                    raw = server.modules().get(pid)
                    if raw is None:
                        self._send(404, {"code": "resource_not_found", "message": f"storage_not_found_error: policy id {pid!r}"})
                    else:
                        self._send(200, {"result": {"id": pid, "raw": raw}})
                else:
                    self._send(404, {"code": "resource_not_found", "message": "not found"})

            def do_PUT(self) -> None:
                path = self.path.split("?", 1)[0]
                if not path.startswith("/v1/policies/"):
                    self._send(404, {"code": "resource_not_found", "message": "not found"})
                    return
                pid = path[len("/v1/policies/") :]
                status, body = server.put_policy(pid, self._body().decode("utf-8", errors="replace"))
                self._send(status, body)

            def do_DELETE(self) -> None:
                path = self.path.split("?", 1)[0]
                if not path.startswith("/v1/policies/"):
                    self._send(404, {"code": "resource_not_found", "message": "not found"})
                    return
                status, body = server.delete_policy(path[len("/v1/policies/") :])
                self._send(status, body)

            def do_POST(self) -> None:
                path = self.path.split("?", 1)[0]
                if not path.startswith("/v1/data"):
                    self._send(404, {"code": "resource_not_found", "message": "not found"})
                    return
                try:
                    raw = self._body()
                    payload = json.loads(raw) if raw else {}
                except json.JSONDecodeError as exc:
                    self._send(400, {"code": "invalid_parameter", "message": f"body is not JSON: {exc}"})
                    return
                doc = path[len("/v1/data") :].strip("/").replace("/", ".")
                status, body = server.query(doc, payload.get("input"))
                self._send(status, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="opa-dev-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OpaDevServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._engine.close()

    def __enter__(self) -> OpaDevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def modules(self) -> dict[str, str]:
        with self._lock:
            return dict(self._modules)

    def _rebuild(self, modules: dict[str, str]) -> Any:
        engine = self._engine_class()
        try:
            for pid, src in modules.items():
                engine.add_policy(pid, src)
            # Compile everything now so errors surface on PUT, as in OPA.
            engine.eval_query("true")
        except Exception:  # noqa: BLE001 - close, then re-raise
            engine.close()
            raise
        return engine

    def put_policy(self, pid: str, source: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            candidate = {**self._modules, pid: source}
            try:
                engine = self._rebuild(candidate)
            except Exception as exc:  # noqa: BLE001 - the engine's compile error becomes OPA's 400 answer
                message = getattr(exc, "message", str(exc))
                errors = [
                    {
                        "code": m.group("code"),
                        "message": m.group("msg"),
                        "location": {"file": m.group("file"), "row": int(m.group("row")), "col": int(m.group("col") or 0)},
                    }
                    for m in _ERR_LOC.finditer(message)
                ]
                return 400, {"code": "invalid_parameter", "message": "error(s) occurred while compiling module(s)", "errors": errors or [{"code": "rego_compile_error", "message": message}]}
            old, self._engine, self._modules = self._engine, engine, candidate
        old.close()
        return 200, {}

    def delete_policy(self, pid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if pid not in self._modules:
                return 404, {"code": "resource_not_found", "message": f"storage_not_found_error: policy id {pid!r}"}
            candidate = {k: v for k, v in self._modules.items() if k != pid}
            try:
                engine = self._rebuild(candidate)
            except Exception as exc:  # noqa: BLE001 - answered as OPA would
                return 400, {"code": "invalid_parameter", "message": str(exc)}
            old, self._engine, self._modules = self._engine, engine, candidate
        old.close()
        return 200, {}

    def query(self, doc: str, given: Any) -> tuple[int, dict[str, Any]]:
        from opa_bindings import OpaUndefinedError

        with self._lock:
            engine = self._engine
            try:
                value = engine.eval_document(doc, input=given)
            except OpaUndefinedError:
                return 200, {}
            except Exception as exc:  # noqa: BLE001 - answered as OPA would
                return 500, {"code": "internal_error", "message": getattr(exc, "message", str(exc))}
        return 200, {"result": value}
