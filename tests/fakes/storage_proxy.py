"""A forwarding proxy in front of Azurite that can refuse writes with 403, as Azure Storage does
when the caller may read a blob but not write it.

Requests go on to Azurite unchanged (Shared Key signatures do not cover the host, so a client
signs for the proxy's endpoint as it would for Azurite's). While ``deny_writes`` is set, a
``PUT`` that uploads blob content (no ``comp=`` in the query: leases and metadata are still
allowed) is answered 403 ``AuthorizationPermissionMismatch`` with Azure's XML error body, the way
a role without write permission on the data is refused. ``refused`` counts those.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.fakes.azurite import ACCOUNT_KEY, ACCOUNT_NAME, AzuriteBlob

_DENIED = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>'
    b"<Message>This request is not authorized to perform this operation using this "
    b"permission.</Message></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class StorageProxy:
    """Start with ``start()``; ``connection_string`` points a client at the proxy."""

    def __init__(self, azurite: AzuriteBlob) -> None:
        self.azurite = azurite
        self.deny_writes = False
        self.refused = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> StorageProxy:
        proxy = self

        class Handler(_Forward):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def connection_string(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT_NAME};"
        )

    def _denies(self, method: str, path: str) -> bool:
        if not (self.deny_writes and method == "PUT" and "comp=" not in urlsplit(path).query):
            return False
        with self._lock:
            self.refused += 1
        return True


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: StorageProxy

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.owner._denies(self.command, self.path):
            self.send_response(403, "This request is not authorized to perform this operation")
            self.send_header("x-ms-error-code", "AuthorizationPermissionMismatch")
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(_DENIED)))
            self.end_headers()
            self.wfile.write(_DENIED)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.owner.azurite.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            self.send_response(response.status, response.reason)
            head = self.command == "HEAD"  # its Content-Length is the blob's, with no body
            for name, value in response.getheaders():
                if name.lower() in _HOP_BY_HOP or (name.lower() == "content-length" and not head):
                    continue
                self.send_header(name, value)
            if not head:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)
        finally:
            upstream.close()

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_PUT(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()
