"""The client-facing HTTP server: HTTP triggers, the Durable HTTP API, the admin API.

- `/<routePrefix>/<route>` (prefix `api` unless host.json says otherwise): HTTP triggers,
  honouring their auth level (key in the `code` query parameter or `x-functions-key`).
- `/runtime/webhooks/durabletask/...`: the Durable HTTP API (the extension's system key or
  the master key), the URLs that `create_check_status_response` hands out; they carry the
  system key, never the master key (the extension's `HttpApiHandler.GetClientResponseLinks`
  appends the query of the webhook URL the host gives it, `code=<system key>`).
- `/durabletask/...`: the same API. On the public listener it needs the system key; without
  a key it is served only by a second listener on 127.0.0.1 and its own port: the RPC base
  URL of the client binding, what the SDK's DurableOrchestrationClient calls (the
  extension's `LocalHttpListener`, `http://127.0.0.1:<port>/durabletask/`).
- `/admin/functions/<name>` (POST, master key): run a timer or queue function now, like
  the Functions host's admin API; `/admin/host/status` (GET) describes the host.

Requests are read as Kestrel reads them for the Functions host: a body by `Content-Length`
or `Transfer-Encoding: chunked`, at most `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` bytes (100 MB;
on the RPC listener Kestrel's own default, 30,000,000 bytes) or 413; the request headers
within 30 s and the body at 240 bytes/s after 5 s of grace, or 408 and the connection is
closed; an idle keep-alive connection is closed after 130 s. Keys never reach the log:
`code=` values are masked in every logged request line.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import azure.functions as func

from devhost.engine import DEFAULT_PAGE_SIZE, Engine, EngineError, iso, parse_iso
from devhost.loader import FunctionInfo
from devhost.settings import Keys

log = logging.getLogger("devhost.http")

WEBHOOK_PREFIX = "/runtime/webhooks/durabletask"
RPC_PREFIX = "/durabletask"
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
DEFAULT_MAX_BODY = 104_857_600  # the Functions host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT default
KESTREL_MAX_BODY = 30_000_000  # Kestrel's own default, which the extension's local listener keeps
CHUNK_LINE_LIMIT = 4096
READ_PIECE = 65_536


@dataclass(frozen=True)
class RequestLimits:
    """How much and how slowly a client may send (Kestrel's defaults under the Functions host).

    `KestrelServerLimits`: `RequestHeadersTimeout` 30 s, `KeepAliveTimeout` 2 min 10 s,
    `MinRequestBodyDataRate` 240 bytes/s with a 5 s grace period; the Functions host sets
    `MaxRequestBodySize` from `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` (default 100 MB).
    """

    max_body_bytes: int = DEFAULT_MAX_BODY
    headers_timeout: float = 30.0
    keep_alive_timeout: float = 130.0
    min_body_rate: float = 240.0
    body_grace: float = 5.0


class RequestError(Exception):
    """A request devhost refuses before routing it (size, framing, time)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(Exception):
    """The client closed the connection before its request was complete."""


_CODE = re.compile(r"(?i)((?:^|[?&])code=)[^&\s]*")


def redact(text: str) -> str:
    """A request line or URL with its `code=` key masked, fit for a log."""
    return _CODE.sub(r"\1***", text)


class Watchdog:
    """Drops connections past their deadline: one thread for every connection of a server.

    A connection's reader blocks in `recv`; shutting the socket down for reading makes the
    read return end-of-file, so the handler sees that its time ran out and answers 408.
    """

    def __init__(self) -> None:
        self._deadlines: dict[socket.socket, float] = {}
        self._expired: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devhost-http-watchdog", daemon=True)
        self._thread.start()

    def arm(self, sock: socket.socket, seconds: float) -> None:
        with self._lock:
            self._deadlines[sock] = time.monotonic() + seconds

    def arm_at(self, sock: socket.socket, deadline: float) -> None:
        with self._lock:
            self._deadlines[sock] = deadline

    def disarm(self, sock: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)

    def expired(self, sock: socket.socket) -> bool:
        with self._lock:
            return sock in self._expired

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._deadlines.pop(sock, None)
            self._expired.discard(sock)

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(0.05):
            now = time.monotonic()
            with self._lock:
                due = [sock for sock, deadline in self._deadlines.items() if deadline <= now]
                for sock in due:
                    del self._deadlines[sock]
                    self._expired.add(sock)
            for sock in due:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RD)


@dataclass
class Route:
    """An HTTP trigger's route template compiled to a regular expression."""

    function: FunctionInfo
    pattern: re.Pattern[str]
    methods: tuple[str, ...]
    auth_level: str

    @classmethod
    def compile(cls, function: FunctionInfo, prefix: str) -> Route:
        template = str(function.trigger.get("route") or function.name).strip("/")
        parts: list[str] = []
        for segment in template.split("/"):
            match = re.fullmatch(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?=]+)?(\?)?\}", segment)
            if match:
                catch_all, name, optional = match.groups()
                body = f"(?P<{name}>.*)" if catch_all else f"(?P<{name}>[^/]+)"
                parts.append(f"(?:/{body})?" if optional or catch_all else f"/{body}")
            else:
                parts.append("/" + re.escape(segment))
        base = "/" + prefix.strip("/") if prefix.strip("/") else ""
        pattern = re.compile("^" + re.escape(base) + "".join(parts) + "/?$", re.IGNORECASE)
        methods = tuple(m.upper() for m in (function.trigger.get("methods") or ALL_METHODS))
        level = str(function.trigger.get("authLevel") or "FUNCTION").lower()
        return cls(function=function, pattern=pattern, methods=methods, auth_level=level)


class ServedHost(Protocol):
    """What the server asks of the host whose app it serves (`devhost.host.DevHost`)."""

    base_url: str
    limits: RequestLimits
    routes: list[Route]
    keys: Keys
    engine: Engine

    def invoke(self, info: FunctionInfo, kwargs: dict[str, Any]) -> Any: ...

    def management_urls(self, instance_id: str) -> dict[str, str]: ...

    def run_function_now(self, name: str, text: str = "") -> None: ...

    def describe(self) -> dict[str, Any]: ...


class DevhostHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], host: ServedHost, *, rpc_only: bool = False
    ) -> None:
        """`rpc_only`: the loopback listener of the client binding's `rpcBaseUrl`, which
        serves `/durabletask/` without a key and nothing else."""
        self.devhost = host
        self.rpc_only = rpc_only
        self.limits: RequestLimits = (
            dataclasses.replace(host.limits, max_body_bytes=KESTREL_MAX_BODY)
            if rpc_only
            else host.limits
        )
        self.watchdog = Watchdog()
        super().__init__(address, RequestHandler)

    def server_close(self) -> None:
        self.watchdog.stop()
        super().server_close()


class RequestHandler(BaseHTTPRequestHandler):
    server: DevhostHTTPServer
    protocol_version = "HTTP/1.1"
    body: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), redact(format % args))

    # Reading requests ---------------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Wait for a request at most the keep-alive timeout, then its headers at most the
        headers timeout (the body's time is counted in `_read_body`)."""
        watchdog, sock, limits = self.server.watchdog, self.connection, self.server.limits
        watchdog.arm(sock, limits.keep_alive_timeout)
        try:
            waiting = self.rfile.peek(1)[:1]  # type: ignore[attr-defined]
        except OSError:
            waiting = b""
        if not waiting:  # closed by the client, or idle for too long
            watchdog.forget(sock)
            self.close_connection = True
            return
        watchdog.arm(sock, limits.headers_timeout)
        try:
            super().handle_one_request()
        finally:
            if watchdog.expired(sock):
                self.close_connection = True
            watchdog.forget(sock)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The server's own refusals (bad request line, headers too large) as JSON, and 408
        when they come from the client running out of time."""
        if self.server.watchdog.expired(self.connection):
            code = 408
            message = self._headers_late()
        self.close_connection = True
        # A request line that did not parse leaves HTTP/0.9, which has no status line;
        # nobody speaks 0.9 to a Functions host: answer in HTTP/1.1.
        self.request_version = "HTTP/1.1"
        text = message or explain or self.responses.get(code, ("Bad request",))[0]
        if not text.endswith("."):
            text += "."
        with contextlib.suppress(OSError):  # the client is gone
            self._error(code, text)

    def _headers_late(self) -> str:
        seconds = self.server.limits.headers_timeout
        return f"The request headers did not arrive within {seconds:g} s."

    def _read_body(self) -> bytes:
        """The request body by Content-Length or chunked transfer coding, within the limits."""
        limits = self.server.limits
        coding = self.headers.get("Transfer-Encoding")
        lengths = self.headers.get_all("Content-Length") or []
        if coding is not None:
            codings = [c.strip().lower() for c in coding.split(",") if c.strip()]
            if codings[-1:] != ["chunked"]:
                raise RequestError(
                    400, "The final transfer coding of Transfer-Encoding must be 'chunked'."
                )
            # Content-Length does not count when Transfer-Encoding is present (RFC 9112
            # 6.3); such a request is read, answered and its connection closed.
            if lengths:
                self.close_connection = True
            return self._read_chunked(limits)
        values = {v.strip() for value in lengths for v in value.split(",")}
        if not values:
            return b""
        if len(values) > 1 or not all(re.fullmatch(r"[0-9]{1,19}", v) for v in values):
            raise RequestError(400, "The Content-Length header must be one number of bytes.")
        length = int(values.pop())
        if length > limits.max_body_bytes:
            raise RequestError(413, self._too_large())
        return self._read_exactly(length, time.monotonic(), 0)

    def _too_large(self) -> str:
        size = self.server.limits.max_body_bytes
        setting = "" if self.server.rpc_only else " (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT)"
        return f"Request body too large. The max request body size is {size} bytes{setting}."

    def _arm_body(self, started: float, bytes_by_then: int) -> None:
        limits = self.server.limits
        deadline = started + limits.body_grace + bytes_by_then / limits.min_body_rate
        self.server.watchdog.arm_at(self.connection, deadline)

    def _body_late(self) -> RequestError:
        limits = self.server.limits
        return RequestError(
            408,
            f"The request body arrived too slowly (at least {limits.min_body_rate:g} bytes/s "
            f"after {limits.body_grace:g} s).",
        )

    def _read_exactly(self, length: int, started: float, received: int) -> bytes:
        pieces: list[bytes] = []
        left = length
        while left > 0:
            want = min(left, READ_PIECE)
            self._arm_body(started, received + want)
            piece = self.rfile.read(want)
            if len(piece) < want:
                raise (
                    self._body_late()
                    if self.server.watchdog.expired(self.connection)
                    else (ClientGone())
                )
            pieces.append(piece)
            left -= want
            received += want
        return b"".join(pieces)

    def _read_line(self, started: float, received: int) -> bytes:
        self._arm_body(started, received + CHUNK_LINE_LIMIT)
        line = self.rfile.readline(CHUNK_LINE_LIMIT + 1)
        if not line.endswith(b"\n"):
            if self.server.watchdog.expired(self.connection):
                raise self._body_late()
            if len(line) > CHUNK_LINE_LIMIT:
                raise RequestError(400, "A chunk size line of the request body is too long.")
            raise ClientGone()
        return line

    def _read_chunked(self, limits: RequestLimits) -> bytes:
        started = time.monotonic()
        body = bytearray()
        wire = 0  # bytes read off the connection, the measure of the body's rate
        while True:
            line = self._read_line(started, wire)
            wire += len(line)
            size_text = line.split(b";", 1)[0].strip()
            if not size_text or not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise RequestError(400, "Bad chunk size in the chunked request body.")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > limits.max_body_bytes:
                self.close_connection = True
                raise RequestError(413, self._too_large())
            body += self._read_exactly(size, started, wire)
            wire += size
            if self._read_line(started, wire).strip():
                raise RequestError(400, "A chunk of the request body does not end with CRLF.")
            wire += 2
        while True:  # trailer fields, up to the empty line
            line = self._read_line(started, wire)
            wire += len(line)
            if not line.strip():
                break
        return bytes(body)

    # Plumbing -----------------------------------------------------------------------------

    def _body(self) -> bytes:
        return self.body

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type and body:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _error(self, status: int, message: str) -> None:
        self._answer_error(EngineError(status, message))

    def _answer_error(self, error: EngineError) -> None:
        body = {"Message": error.message, "ExceptionMessage": error.exception_message}
        if error.exception_type:
            body["ExceptionType"] = error.exception_type
        self._json(error.status, body)

    def _handle(self) -> None:
        try:
            self.body = self._receive_body()
            self._route()
        except RequestError as exc:
            self._error(exc.status, exc.message)
        except ClientGone:
            self.close_connection = True
        except EngineError as exc:
            self._answer_error(exc)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:
            log.exception("request %s %s failed", self.command, redact(self.path))
            self._error(500, f"devhost failed to handle the request: {exc}")

    def _receive_body(self) -> bytes:
        """The body, once the headers came in time; the body's own time starts now."""
        watchdog = self.server.watchdog
        if watchdog.expired(self.connection):
            raise RequestError(408, self._headers_late())
        watchdog.disarm(self.connection)
        try:
            return self._read_body()
        except RequestError:
            self.close_connection = True  # the rest of the body is not read
            raise
        finally:
            watchdog.disarm(self.connection)

    def _route(self) -> None:
        """To the Durable API (on the RPC listener, only there), the admin API or a trigger."""
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        rpc = path == RPC_PREFIX or path.startswith(RPC_PREFIX + "/")
        if self.server.rpc_only:
            if rpc:
                self._durable(path[len(RPC_PREFIX) :], query, self._body())
            else:
                self._error(404, f"This listener serves {RPC_PREFIX}/ only.")
        elif rpc:
            if self._authorized("system", query):
                self._durable(path[len(RPC_PREFIX) :], query, self._body())
        elif path == WEBHOOK_PREFIX or path.startswith(WEBHOOK_PREFIX + "/"):
            if self._authorized("system", query):
                self._durable(path[len(WEBHOOK_PREFIX) :], query, self._body())
        elif path.startswith("/admin/"):
            if self._authorized("admin", query):
                self._admin(path, self._body())
        else:
            self._trigger(path, url.query, query)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def _authorized(self, level: str, query: dict[str, str]) -> bool:
        key = query.get("code") or self.headers.get("x-functions-key")
        if self.server.devhost.keys.accepts(level, key):
            return True
        reason = {
            "function": "a function or master key",
            "system": "the Durable extension's system key or the master key",
        }.get(level, "the master key")
        self._error(401, f"This endpoint requires {reason} in 'code' or 'x-functions-key'.")
        return False

    # HTTP triggers ------------------------------------------------------------------------

    def _trigger(self, path: str, raw_query: str, query: dict[str, str]) -> None:
        host = self.server.devhost
        matched_path = False
        for route in host.routes:
            match = route.pattern.match(path)
            if not match:
                continue
            matched_path = True
            if self.command not in route.methods:
                continue
            if not self._authorized(route.auth_level, query):
                return
            self._invoke_http(route, match.groupdict(), raw_query)
            return
        if matched_path:
            self._error(405, f"{self.command} is not allowed on {path}.")
        else:
            self._error(404, f"No function serves {path}.")

    def _invoke_http(self, route: Route, params: dict[str, str | None], raw_query: str) -> None:
        host = self.server.devhost
        body = self._body()
        request = func.HttpRequest(
            method=self.command,
            url=f"{host.base_url}{self.path}",
            headers={k: v for k, v in self.headers.items()},
            params=dict(parse_qsl(raw_query, keep_blank_values=True)),
            route_params={k: v for k, v in params.items() if v is not None},
            body=body,
        )
        info = route.function
        response = host.invoke(info, {str(info.trigger["name"]): request})
        self._reply(response)

    def _reply(self, response: Any) -> None:
        if response is None:
            self._send(204)
            return
        if isinstance(response, str | bytes):
            data = response.encode() if isinstance(response, str) else response
            self._send(200, data, "text/plain; charset=utf-8")
            return
        if not isinstance(response, func.HttpResponse):
            self._send(200, json.dumps(response).encode())
            return
        headers = {k: v for k, v in response.headers.items()}
        content_type = next(
            (v for k, v in headers.items() if k.lower() == "content-type"),
            f"{response.mimetype}; charset={response.charset}",
        )
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        self._send(response.status_code, response.get_body(), content_type, headers)

    # Admin API ----------------------------------------------------------------------------

    def _admin(self, path: str, body: bytes) -> None:
        host = self.server.devhost
        match = re.fullmatch(r"/admin/functions/([^/]+)", path)
        if match and self.command == "POST":
            name = match.group(1)
            payload: dict[str, Any] = {}
            if body.strip():
                try:
                    payload = json.loads(body)
                except json.JSONDecodeError:
                    self._error(400, 'The request body must be JSON like {"input": "..."}.')
                    return
            host.run_function_now(name, str(payload.get("input") or ""))
            self._send(202)
            return
        if path == "/admin/host/status" and self.command == "GET":
            self._json(200, host.describe())
            return
        self._error(404, f"No admin endpoint {self.command} {path}.")

    # The Durable HTTP API -----------------------------------------------------------------

    def _durable(self, rest: str, query: dict[str, str], body: bytes) -> None:
        rest = rest.strip("/")
        parts = rest.split("/") if rest else []
        method = self.command
        if parts and parts[0] == "orchestrators" and len(parts) in (2, 3):
            self._start_orchestration(parts, query, body)
        elif parts and parts[0] == "entities":
            self._error(
                501,
                "devhost does not support durable entities (reading, listing or signalling "
                "an entity).",
            )
        elif parts == ["instances"]:
            self._instances(query)
        elif len(parts) == 2 and parts[0] == "instances":
            self._instance(parts[1], query)
        elif len(parts) > 2 and parts[0] == "instances":
            if method != "POST":
                self._error(405, f"Use POST for {parts[2]}.")
            elif not self._instance_operation(parts[1], parts[2:], query, body):
                self._error(404, f"No Durable API endpoint {method} /{rest}.")
        else:
            self._error(404, f"No Durable API endpoint {method} /{rest}.")

    def _start_orchestration(self, parts: list[str], query: dict[str, str], body: bytes) -> None:
        """POST orchestrators/<name>[/<instance id>]."""
        if self.command != "POST":
            self._error(405, "Start an orchestration with POST.")
            return
        text = body.decode("utf-8").strip() if body else ""
        if text:
            try:
                json.loads(text)
            except json.JSONDecodeError:
                self._error(400, "Invalid JSON content.")
                return
        instance_id = self.server.devhost.engine.start_new(
            parts[1],
            parts[2] if len(parts) == 3 and parts[2] else None,
            text or None,
            query.get("version"),
        )
        self._started(instance_id, query)

    def _instances(self, query: dict[str, str]) -> None:
        """GET lists instances; DELETE purges those created in a time window."""
        if self.command == "GET":
            self._list(query)
        elif self.command == "DELETE":
            created_from = moment(query.get("createdTimeFrom"))
            if not created_from:
                self._error(400, "Please provide value for 'createdTimeFrom' parameter.")
                return
            statuses = [s for s in query.get("runtimeStatus", "").split(",") if s]
            created_to = moment(query.get("createdTimeTo"))
            deleted = self.server.devhost.engine.purge_many(created_from, created_to, statuses)
            if deleted == 0:
                self._error(404, "No instance matched the purge filter.")
            else:
                self._json(200, {"instancesDeleted": deleted})
        else:
            self._error(405, f"{self.command} is not allowed on /instances/.")

    def _instance(self, instance_id: str, query: dict[str, str]) -> None:
        """GET is the instance's status; DELETE purges it."""
        if self.command == "GET":
            self._status(instance_id, query)
        elif self.command == "DELETE":
            self._json(200, {"instancesDeleted": self.server.devhost.engine.purge(instance_id)})
        else:
            self._error(405, f"{self.command} is not allowed on an instance.")

    def _instance_operation(
        self, instance_id: str, operation: list[str], query: dict[str, str], body: bytes
    ) -> bool:
        """POST instances/<id>/<operation>; False when there is no such operation."""
        engine = self.server.devhost.engine
        name = operation[0]
        if name == "raiseEvent" and len(operation) == 2:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() != "application/json":
                self._error(400, "Only application/json request content is supported.")
                return True
            text = body.decode("utf-8").strip()
            try:
                json.loads(text or "null")
            except json.JSONDecodeError:
                self._error(400, "Invalid JSON content.")
                return True
            engine.raise_event(instance_id, operation[1], text or None)
            self._send(202)
        elif len(operation) != 1:
            return False
        elif name in ("terminate", "suspend", "resume"):
            getattr(engine, name)(instance_id, query.get("reason"))
            self._send(202)
        elif name == "restart":
            flag = query.get("restartWithNewInstanceId", "").strip().lower()
            self._started(engine.restart(instance_id, new_id=flag != "false"), query)
        elif name == "rewind":
            self._error(501, "devhost does not support rewind.")
        else:
            return False
        return True

    def _status_headers(self, instance_id: str, running: bool) -> dict[str, str]:
        if not running:
            return {}
        return {
            "Location": self.server.devhost.management_urls(instance_id)["statusQueryGetUri"],
            "Retry-After": "5",
        }

    def _status(self, instance_id: str, query: dict[str, str]) -> None:
        engine = self.server.devhost.engine
        instance = engine.store.instance(instance_id)
        if instance is None:
            self._error(404, f"No instance with ID '{instance_id}' found.")
            return
        payload = engine.status(
            instance,
            show_input=query.get("showInput", "true").lower() != "false",
            show_history=query.get("showHistory", "").lower() == "true",
            show_history_output=query.get("showHistoryOutput", "").lower() == "true",
        )
        running = instance.status in ("Pending", "Running", "ContinuedAsNew", "Suspended")
        code = 202 if running else 200
        if (
            instance.status == "Failed"
            and query.get("returnInternalServerErrorOnFailure") == "true"
        ):
            code = 500
        self._json(code, payload, self._status_headers(instance_id, running))

    def _list(self, query: dict[str, str]) -> None:
        """One page of the instances that match (HttpApiHandler.HandleGetStatusRequestAsync).

        A page holds `top` instances (default 100, OrchestrationStatusQueryCondition.PageSize)
        in instance id order, as an Azure Table query returns them; the header
        `x-ms-continuation-token` carries where the next page starts and is empty on the
        last one. `showInput` defaults to true. The SDK's client sends no token and reads
        only the first page.
        """
        engine = self.server.devhost.engine
        statuses = [s for s in query.get("runtimeStatus", "").split(",") if s]
        top = query.get("top", "")
        size = int(top) if top.strip().lstrip("-").isdigit() and int(top) > 0 else DEFAULT_PAGE_SIZE
        token = self.headers.get("x-ms-continuation-token") or None
        after: str | None = None
        if token:
            after = read_token(token)
            if after is None:
                self._error(400, "The x-ms-continuation-token header is not a token devhost gave.")
                return
        instances = engine.store.instances(
            statuses=statuses or None,
            created_from=moment(query.get("createdTimeFrom")),
            created_to=moment(query.get("createdTimeTo")),
            prefix=query.get("instanceIdPrefix"),
            limit=size + 1,
            after=after,
        )
        page, more = instances[:size], len(instances) > size
        following = make_token(page[-1].instance_id) if more else ""
        show_input = query.get("showInput", "true").strip().lower() != "false"
        self._json(
            200,
            [engine.status(i, show_input=show_input) for i in page],
            {"x-ms-continuation-token": following},
        )

    def _started(self, instance_id: str, query: dict[str, str]) -> None:
        """The answer to a start or restart: wait when both `timeout` and `pollingInterval`
        are numbers (HttpApiHandler.HandleStartOrchestratorRequestAsync), else 202."""
        timeout, interval = seconds(query.get("timeout")), seconds(query.get("pollingInterval"))
        if timeout is not None and interval is not None:
            self._wait_or_check(instance_id, timeout)
        else:
            self._check_status(instance_id)

    def _check_status(self, instance_id: str) -> None:
        urls = self.server.devhost.management_urls(instance_id)
        payload = {k: v for k, v in urls.items() if k != "rewindPostUri"}
        self._json(202, payload, {"Location": urls["statusQueryGetUri"], "Retry-After": "10"})

    def _wait_or_check(self, instance_id: str, timeout: float) -> None:
        engine = self.server.devhost.engine
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            instance = engine.store.instance(instance_id)
            if instance is not None and instance.status == "Completed":
                self._send(200, (instance.output or "null").encode())
                return
            if instance is not None and instance.is_terminal:
                self._json(200, engine.status(instance))
                return
            time.sleep(0.05)
        self._check_status(instance_id)


def seconds(text: str | None) -> float | None:
    """A number of seconds from a query parameter; None when it is not one."""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and value == value and abs(value) != float("inf") else None


def make_token(after: str) -> str:
    """A continuation token: where the next page starts (opaque to clients)."""
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode("ascii")


def read_token(token: str) -> str | None:
    """The instance id a continuation token continues after; None if devhost did not make it."""
    try:
        data = json.loads(base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True))
    except (ValueError, UnicodeError):
        return None
    after = data.get("after") if isinstance(data, dict) else None
    return after if isinstance(after, str) else None


def moment(text: str | None) -> str | None:
    """A date filter as the store compares it; None when it does not parse (the extension's
    DateTime.TryParse then leaves the filter out)."""
    if not text or not text.strip():
        return None
    try:
        return iso(parse_iso(text))
    except ValueError:
        return None


def serve(
    host: ServedHost, address: str, port: int, *, rpc_only: bool = False
) -> tuple[DevhostHTTPServer, threading.Thread]:
    server = DevhostHTTPServer((address, port), host, rpc_only=rpc_only)
    name = "devhost-rpc" if rpc_only else "devhost-http"
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return server, thread


def management_urls(base_url: str, hub: str, system_key: str, instance_id: str) -> dict[str, str]:
    """The extension's management URLs: they carry the system key, whoever asked."""
    webhook = base_url + WEBHOOK_PREFIX
    instance = f"{webhook}/instances/{quote(instance_id, safe='')}"
    q = f"taskHub={quote(hub)}&connection=Storage&code={quote(system_key)}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance}?{q}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{q}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{q}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{q}",
        "purgeHistoryDeleteUri": f"{instance}?{q}",
        "restartPostUri": f"{instance}/restart?{q}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{q}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{q}",
    }


def client_binding(base_url: str, hub: str, system_key: str, rpc_base_url: str) -> str:
    """The durableClient binding data the extension hands to a Python function (JSON)."""
    webhook = base_url + WEBHOOK_PREFIX
    code = f"code={quote(system_key)}"
    urls = management_urls(base_url, hub, system_key, "INSTANCEID")
    return json.dumps(
        {
            "taskHubName": hub,
            "creationUrls": {
                "createNewInstancePostUri": f"{webhook}/orchestrators/{{functionName}}"
                f"[/{{instanceId}}]?{code}",
                "createAndWaitOnNewInstancePostUri": f"{webhook}/orchestrators/{{functionName}}"
                f"[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
                f"&pollingInterval={{intervalInSeconds}}&{code}",
            },
            "managementUrls": urls,
            "baseUrl": webhook,
            "requiredQueryStringParameters": code,
            "rpcBaseUrl": rpc_base_url,
            "httpBaseUrl": "",
            "maxGrpcMessageSizeInBytes": 0,
            "grpcHttpClientTimeout": "00:01:40",
        }
    )
