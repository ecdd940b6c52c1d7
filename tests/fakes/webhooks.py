"""Local webhook endpoints that misbehave on request, on a real socket (plain or TLS).

``ChatServer`` is a threaded HTTP/1.1 server on 127.0.0.1 whose every path is one channel with
a ``Behaviour``, changeable while it runs:

- ``TEAMS``: 202 with an empty body (a Workflows webhook); ``SLACK``: 200 ``ok``;
- ``Answer(status, body, headers)``: any fixed answer (a 400, a 307 with a ``Location``, ...);
- ``HANG``: reads the body and never answers (until the server stops);
- ``Trickle(interval)``: answers 202 but sends the status line and headers one byte at a time,
  ``interval`` seconds apart (about 300 bytes: half a minute at 0.1 s);
- ``Slow(seconds)``: reads the body, waits, then answers 202 (a read timeout after the body was
  sent, for a client with a shorter timeout);
- ``Raw(data)``: these bytes as the whole answer (malformed headers, say).

Every request whose body was read in full is recorded as ``Received`` *before* it is answered,
whether or not the answer reaches the client: a chat service shows a message it received even
when the sender died before reading the answer. ``on_post(n, received)`` runs right after the
n-th recorded post has been answered (the crash tests kill the posting process there).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Trickle:
    interval: float = 0.1
    padding: int = 280  # header bytes sent slowly (the whole answer is about 300 bytes)


@dataclass(frozen=True)
class Slow:
    seconds: float


@dataclass(frozen=True)
class Raw:
    data: bytes


class _Hang:
    def __repr__(self) -> str:
        return "HANG"


Behaviour = Answer | Trickle | Slow | Raw | _Hang
TEAMS = Answer(202)
SLACK = Answer(200, "ok")
HANG = _Hang()


@dataclass(frozen=True)
class Received:
    path: str
    at: float  # time.monotonic() when the body had been read
    body: bytes
    number: int  # 1 for the server's first post, 2 for the next, ...

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class ChatServer:
    """Webhook channels on one local port; start with ``start()``, stop with ``stop()``."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    on_post: Callable[[int, Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    requests: int = 0  # every request that arrived, even one whose body was never read

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- set-up ---------------------------------------------------------------------------

    def start(self) -> ChatServer:
        chat = self

        class Handler(_Handler):
            server_chat = chat

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the server first"
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def set(self, path: str, behaviour: Behaviour) -> str:
        """Give ``path`` a behaviour; returns the path (its URL is ``url(path)``)."""
        with self._lock:
            self.behaviours[path] = behaviour
        return path

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.requests = 0
            self.on_post = None

    # --- what arrived ---------------------------------------------------------------------

    def bodies(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    # --- the handler's side ---------------------------------------------------------------

    def _behaviour(self, path: str) -> Behaviour:
        with self._lock:
            self.requests += 1
            return self.behaviours.get(path, Answer(404, "no such channel"))

    def _record(self, path: str, body: bytes) -> Received:
        with self._lock:
            received = Received(path, time.monotonic(), body, len(self.received) + 1)
            self.received.append(received)
            return received

    def _answered(self, received: Received) -> None:
        hook = self.on_post
        if hook is not None:
            hook(received.number, received)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed or cut off mid-request is what these tests do: not an error."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_chat: ChatServer

    def log_message(self, format: str, *args: Any) -> None:  # the request line holds the secret
        return

    def do_POST(self) -> None:
        chat = self.server_chat
        path = self.path.split("?", 1)[0]
        behaviour = chat._behaviour(path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            return  # the client went away before it had sent the body
        received = chat._record(path, body)
        try:
            self._answer(behaviour, chat)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True
            return
        chat._answered(received)

    def _answer(self, behaviour: Behaviour, chat: ChatServer) -> None:
        if isinstance(behaviour, _Hang):
            chat._stopping.wait()
            self.close_connection = True
            return
        if isinstance(behaviour, Slow):
            if chat._stopping.wait(behaviour.seconds):
                return
            behaviour = TEAMS
        if isinstance(behaviour, Trickle):
            head = (
                "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n"
                f"X-Trickle: {'a' * behaviour.padding}\r\n\r\n"
            ).encode()
            for byte in head:
                if chat._stopping.wait(behaviour.interval):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return
        if isinstance(behaviour, Raw):
            self.wfile.write(behaviour.data)
            self.wfile.flush()
            self.close_connection = True
            return
        data = behaviour.body.encode("utf-8")
        self.send_response(behaviour.status)
        for name, value in behaviour.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
