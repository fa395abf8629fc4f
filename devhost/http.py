"""The client-facing HTTP server: HTTP triggers, the Durable HTTP API, the admin API.

- `/<routePrefix>/<route>` (prefix `api` unless host.json says otherwise): HTTP triggers,
  honouring their auth level (key in the `code` query parameter or `x-functions-key`).
- `/runtime/webhooks/durabletask/...`: the Durable HTTP API (master key), the URLs that
  `create_check_status_response` hands out.
- `/durabletask/...`: the same API without a key: the RPC base URL of the client binding,
  what the SDK's DurableOrchestrationClient calls (the real host serves it on localhost).
- `/admin/functions/<name>` (POST, master key): run a timer or queue function now, like
  the Functions host's admin API; `/admin/host/status` (GET) describes the host.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import azure.functions as func

from devhost.engine import DEFAULT_PAGE_SIZE, EngineError, iso, parse_iso
from devhost.loader import FunctionInfo

if TYPE_CHECKING:
    from devhost.host import DevHost

log = logging.getLogger("devhost.http")

WEBHOOK_PREFIX = "/runtime/webhooks/durabletask"
RPC_PREFIX = "/durabletask"
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


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


class DevhostHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], host: DevHost) -> None:
        self.devhost = host
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    server: DevhostHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    # Plumbing -----------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

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
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers=headers)

    def _error(
        self,
        status: int,
        message: str,
        exception_message: str | None = None,
        exception_type: str | None = None,
    ) -> None:
        body = {"Message": message, "ExceptionMessage": exception_message or message}
        if exception_type:
            body["ExceptionType"] = exception_type
        self._json(status, body)

    def _handle(self) -> None:
        host = self.server.devhost
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            if path == RPC_PREFIX or path.startswith(RPC_PREFIX + "/"):
                self._durable(path[len(RPC_PREFIX) :], query, self._body())
            elif path == WEBHOOK_PREFIX or path.startswith(WEBHOOK_PREFIX + "/"):
                if not self._authorized("admin", query):
                    return
                self._durable(path[len(WEBHOOK_PREFIX) :], query, self._body())
            elif path.startswith("/admin/"):
                if not self._authorized("admin", query):
                    return
                self._admin(path, self._body())
            else:
                self._trigger(path, url.query, query)
        except EngineError as exc:
            self._error(exc.status, exc.message, exc.exception_message, exc.exception_type)
        except BrokenPipeError:
            pass
        except Exception as exc:
            log.exception("request %s %s failed", self.command, self.path)
            self._error(500, f"devhost failed to handle the request: {exc}")
        finally:
            host.requests_served += 1

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def _authorized(self, level: str, query: dict[str, str]) -> bool:
        key = query.get("code") or self.headers.get("x-functions-key")
        if self.server.devhost.keys.accepts(level, key):
            return True
        reason = "a function or master key" if level == "function" else "the master key"
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
        host = self.server.devhost
        engine = host.engine
        rest = rest.strip("/")
        parts = rest.split("/") if rest else []
        method = self.command
        if parts and parts[0] == "orchestrators" and len(parts) in (2, 3):
            if method != "POST":
                self._error(405, "Start an orchestration with POST.")
                return
            text = body.decode("utf-8").strip() if body else ""
            if text:
                try:
                    json.loads(text)
                except json.JSONDecodeError:
                    self._error(400, "Invalid JSON content.")
                    return
            instance_id = engine.start_new(
                parts[1],
                parts[2] if len(parts) == 3 and parts[2] else None,
                text or None,
                query.get("version"),
            )
            self._started(instance_id, query)
            return
        if parts and parts[0] == "entities":
            self._error(
                501,
                "devhost does not support durable entities (reading, listing or signalling "
                "an entity).",
            )
            return
        if not parts or parts[0] != "instances":
            self._error(404, f"No Durable API endpoint {method} /{rest}.")
            return
        if len(parts) == 1:
            if method == "GET":
                self._list(query)
            elif method == "DELETE":
                created_from = moment(query.get("createdTimeFrom"))
                if not created_from:
                    self._error(400, "Please provide value for 'createdTimeFrom' parameter.")
                    return
                statuses = [s for s in query.get("runtimeStatus", "").split(",") if s]
                created_to = moment(query.get("createdTimeTo"))
                deleted = engine.purge_many(created_from, created_to, statuses)
                if deleted == 0:
                    self._error(404, "No instance matched the purge filter.")
                else:
                    self._json(200, {"instancesDeleted": deleted})
            else:
                self._error(405, f"{method} is not allowed on /instances/.")
            return
        instance_id = parts[1]
        if len(parts) == 2:
            if method == "GET":
                self._status(instance_id, query)
            elif method == "DELETE":
                self._json(200, {"instancesDeleted": engine.purge(instance_id)})
            else:
                self._error(405, f"{method} is not allowed on an instance.")
            return
        operation = parts[2]
        if method != "POST":
            self._error(405, f"Use POST for {operation}.")
            return
        if operation == "raiseEvent" and len(parts) == 4:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() != "application/json":
                self._error(400, "Only application/json request content is supported.")
                return
            text = body.decode("utf-8").strip()
            try:
                json.loads(text or "null")
            except json.JSONDecodeError:
                self._error(400, "Invalid JSON content.")
                return
            engine.raise_event(instance_id, parts[3], text or None)
            self._send(202)
            return
        if operation in ("terminate", "suspend", "resume") and len(parts) == 3:
            getattr(engine, operation)(instance_id, query.get("reason"))
            self._send(202)
            return
        if operation == "restart" and len(parts) == 3:
            flag = query.get("restartWithNewInstanceId", "").strip().lower()
            self._started(engine.restart(instance_id, new_id=flag != "false"), query)
            return
        if operation == "rewind" and len(parts) == 3:
            self._error(501, "devhost does not support rewind.")
            return
        self._error(404, f"No Durable API endpoint {method} /{rest}.")

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


def serve(host: DevHost, address: str, port: int) -> tuple[DevhostHTTPServer, threading.Thread]:
    server = DevhostHTTPServer((address, port), host)
    thread = threading.Thread(target=server.serve_forever, name="devhost-http", daemon=True)
    thread.start()
    return server, thread


def management_urls(base_url: str, hub: str, master_key: str, instance_id: str) -> dict[str, str]:
    webhook = base_url + WEBHOOK_PREFIX
    instance = f"{webhook}/instances/{quote(instance_id, safe='')}"
    q = f"taskHub={quote(hub)}&connection=Storage&code={quote(master_key)}"
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


def client_binding(base_url: str, hub: str, master_key: str) -> str:
    """The durableClient binding data the extension hands to a Python function (JSON)."""
    webhook = base_url + WEBHOOK_PREFIX
    code = f"code={quote(master_key)}"
    urls = management_urls(base_url, hub, master_key, "INSTANCEID")
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
            "rpcBaseUrl": base_url + RPC_PREFIX + "/",
            "httpBaseUrl": "",
            "maxGrpcMessageSizeInBytes": 0,
            "grpcHttpClientTimeout": "00:01:40",
        }
    )
