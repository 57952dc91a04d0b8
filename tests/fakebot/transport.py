"""HTTP wire format of the Bot API: URLs, tokens, request bodies, JSON responses.

python-telegram-bot POSTs ``<base_url><token>/<method>`` with the parameters
form-urlencoded, every non-string value JSON-encoded (``chat_id=42``,
``protect_content=true``, ``reply_markup={"inline_keyboard": ...}``), or as
multipart/form-data when it uploads a file. Telegram also accepts GET query
strings and JSON bodies. This module turns all of those into one decoded
``params`` dict and hands it to ``BotApi``.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import re
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakebot.methods import BotApi
from tests.fakebot.models import UploadedFile
from tests.fakebot.state import ServerState

TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
# A token of the right outline but wrong in detail is "Unauthorized" on Telegram;
# anything else in the token's place is an unknown URL, "Not Found".
_TOKEN_OUTLINE = re.compile(r"^\d+:.+$")
_API_PATH = re.compile(r"^/bot([^/]*)/([^/]*)$")
_FILE_PATH = re.compile(r"^/file/bot([^/]*)/(.+)$")

# Parameters whose values are strings in the Bot API. They must not be
# JSON-decoded: a member-facing text of "123" or "true" stays a string, and a
# callback_query_id made of digits stays a string.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "description",
        "short_description",
        "language_code",
        "action",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "name",
        "title",
        "query",
        "payload",
        "start_parameter",
    }
)


def decode_value(name: str, value: Any) -> Any:
    """Decode one parameter the way Telegram types it (see STRING_PARAMS)."""
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # A plain string such as chat_id="@channel".


def decode_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """All parameters of a request: query string first, then the body."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" and body:
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            raw.update(decoded)
    elif media_type == "multipart/form-data":
        raw.update(_decode_multipart(content_type, body))
    elif body:
        raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return {name: decode_value(name, value) for name, value in raw.items()}


def _decode_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    # The email package parses MIME multipart without the deprecated cgi module.
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8")
        else:
            fields[name] = UploadedFile(filename, part.get_content_type(), data)
    return fields


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps PTB's pooled connections alive between calls.
    protocol_version = "HTTP/1.1"
    server: FakeHttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's
        # algorithm and delayed ACKs add ~40 ms to every call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track_connection(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track_connection(self.connection, add=False)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        # The request line carries the bot token; keep it out of test output.
        pass

    def _serve(self) -> None:
        state = self.server.state
        with state.cond:
            state.open_requests += 1
        try:
            status, body = self._route()
            self._respond(status, body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (PTB cancels its long poll on shutdown).
            self.close_connection = True
        finally:
            with state.cond:
                state.open_requests -= 1
                state.cond.notify_all()

    def _route(self) -> tuple[int, bytes | dict[str, Any]]:
        url = urlsplit(self.path)
        # PTB percent-encodes file URLs, turning the token's colon into %3A.
        path = unquote(url.path)
        body = self._read_body()
        file_match = _FILE_PATH.match(path)
        if file_match and self.command == "GET":
            return self._serve_file(*file_match.groups())
        match = _API_PATH.match(path)
        if match is None or not match.group(2):
            return 404, _error(404, "Not Found")
        token, method = match.groups()
        if not TOKEN_PATTERN.match(token):
            if _TOKEN_OUTLINE.match(token):
                return 401, _error(401, "Unauthorized")
            return 404, _error(404, "Not Found")
        try:
            params = decode_params(url.query, self.headers.get("Content-Type", ""), body)
        except (ValueError, UnicodeDecodeError):
            return 400, _error(400, "Bad Request: can't parse request body")
        return self.server.api.handle(token, method, params)

    def _serve_file(self, token: str, path: str) -> tuple[int, bytes | dict[str, Any]]:
        if not TOKEN_PATTERN.match(token):
            return 404, _error(404, "Not Found")
        state = self.server.state
        with state.cond:
            stored = next((f for f in state.files.values() if f.file_path == path), None)
        if stored is None:
            return 404, _error(404, "Not Found")
        return 200, stored.data

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()  # the blank line after the last chunk
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _respond(self, status: int, body: bytes | dict[str, Any]) -> None:
        if isinstance(body, dict):
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        else:
            payload = body
            content_type = "application/octet-stream"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}


class FakeHttpServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that can close its open connections."""

    daemon_threads = True
    # Keep-alive connections would make server_close() wait for the client.
    block_on_close = False

    def __init__(self, state: ServerState, api: BotApi) -> None:
        self.state = state
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name with getfqdn(), which
        # can stall for seconds on machines without working reverse DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track_connection(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection so its thread ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
