"""A process answering ``/healthz`` on a port of its own, as another Breather does (an older one, another home's)."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any


class HealthzServer:
    def __init__(self, health: dict[str, Any]) -> None:
        body = json.dumps(health).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
