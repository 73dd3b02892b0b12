import hashlib
import hmac
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# the plate renderer of the benchmark makes the test images too
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "camera"))

TOKEN = "test-token-not-secret"
KEY_ID = "cam-key-1"


class FakeApp:
    """A tiny real HTTP server standing in for the app: checks signatures, keeps event ids."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.key_id = KEY_ID
        self.token = TOKEN
        self.events: list[dict] = []
        self.heartbeats: list[dict] = []
        self.answer: int | None = None  # force a status, e.g. 401 for a revoked token
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = app.handle(self.path, self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, path: str, headers, body: bytes) -> int:
        if self.answer:
            return self.answer
        expected = hmac.new(
            TOKEN.encode(), headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if headers["X-Camera-Key"] != KEY_ID or headers["X-Signature"] != expected:
            return 401
        data = json.loads(body)
        if path.endswith("/heartbeat"):
            self.heartbeats.append(data)
            return 200
        if "text" not in data:
            return 422
        if all(e["event_id"] != data["event_id"] for e in self.events):
            self.events.append(data)
        return 201


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake_app():
    app = FakeApp(free_port())
    yield app
    app.stop()


@pytest.fixture(scope="session")
def reader():
    from camera_agent.reader import Reader

    return Reader()
