"""The WSGI application: ARM front door (auth, api-version, throttling, faults, counting,
routing, error rendering) and the admin API under `/_admin`.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from emulator import operations
from emulator.admin import AdminApi
from emulator.compute import urls as compute_urls
from emulator.core import Core
from emulator.devtestlabs import urls as dtl_urls
from emulator.exceptions import (
    ArmError,
    AuthenticationFailed,
    ExpiredAuthenticationToken,
    InternalServerError,
    InvalidAuthenticationToken,
    InvalidAuthenticationTokenAudience,
    InvalidResourceType,
    MethodNotAllowed,
    MissingApiVersionParameter,
    NoRegisteredProviderFound,
    NotImplementedByEmulator,
    ServiceUnavailable,
    SubscriptionRequestsThrottled,
)
from emulator.faults import RequestKind
from emulator.http import ArmRequest, ArmResponse, Router, route
from emulator.resources import urls as resources_urls
from emulator.storage import urls as storage_urls
from emulator.throttling import KINDS, bucket_of, header_names
from emulator.tls import TlsFiles

API_VERSIONS: dict[str, tuple[str, ...]] = {
    dtl_urls.PROVIDER.lower(): dtl_urls.API_VERSIONS,
    compute_urls.PROVIDER.lower(): compute_urls.API_VERSIONS,
    storage_urls.PROVIDER.lower(): storage_urls.API_VERSIONS,
    resources_urls.PROVIDER.lower(): resources_urls.API_VERSIONS,
}
AUDIENCES = (
    "https://management.azure.com",
    "https://management.core.windows.net",
)


def _not_implemented(request: ArmRequest) -> ArmResponse:
    raise NotImplementedByEmulator(
        f"The emulator does not implement {request.method} {request.path}."
    )


def _build_router() -> tuple[Router, Router]:
    routes = [
        *dtl_urls.ROUTES,
        *compute_urls.ROUTES,
        *storage_urls.ROUTES,
        *resources_urls.ROUTES,
        *operations.ROUTES,
    ]
    unimplemented = [
        route(method, pattern, _not_implemented, module.PROVIDER, "unimplemented", "unimplemented")
        for module in (dtl_urls, compute_urls, storage_urls, resources_urls)
        for method, pattern in module.UNIMPLEMENTED
    ]
    return Router(routes), Router(unimplemented)


def _decode_segment(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def check_token(header: str | None) -> None:
    """ARM's answer to a missing, malformed, expired or misdirected bearer token."""
    if not header:
        raise AuthenticationFailed("Authentication failed. The 'Authorization' header is missing.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed(
            "Authentication failed. The 'Authorization' header is provided in an invalid format."
        )
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidAuthenticationToken("The access token is invalid: it is not a JWT.")
    try:
        claims = _decode_segment(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidAuthenticationToken(
            "The access token is invalid: its claims cannot be decoded."
        ) from None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < time.time():
        raise ExpiredAuthenticationToken("The access token expiry UTC time has passed.")
    audience = str(claims.get("aud", "")).rstrip("/")
    if audience not in AUDIENCES:
        raise InvalidAuthenticationTokenAudience(
            f"The access token has been obtained for the wrong audience '{audience}'."
        )


@dataclass
class EmulatorApp:
    """The WSGI callable."""

    core: Core
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.router, self.unimplemented = _build_router()
        self.admin = AdminApi(self.core, self.info)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path.startswith("/_admin"):
            response = self.admin.handle(request)
        else:
            response = self.handle_arm(request)
        return response(environ, start_response)

    # ----- ARM -------------------------------------------------------------------------------
    def handle_arm(self, request: Request) -> Response:
        core = self.core
        method = request.method.upper()
        path = request.path
        found, params, allowed = self.router.resolve(method, path)
        segments = [s for s in path.split("/") if s]
        subscription = (
            segments[1] if len(segments) > 1 and segments[0].lower() == "subscriptions" else ""
        )
        if found is not None:
            provider = (
                params.get("provider", found.provider) if found.provider == "*" else found.provider
            )
            resource_type = found.resource_type
            operation = found.operation.replace("{provider}", provider)
        else:
            provider = self._provider_of(segments)
            resource_type, operation = "unknown", f"{method} unknown"
        core.counter.count(method, resource_type, operation)
        kind = RequestKind(method, resource_type, operation, path)
        headers = {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": request.headers.get(
                "x-ms-correlation-request-id", str(uuid.uuid4())
            ),
        }
        try:
            api_version = self._admit(request, subscription, provider)
            if found is None:
                self._refuse_unrouted(request, allowed, kind, api_version)
            if subscription:
                self._throttle(subscription, method, headers)
            self._inject_fault(kind)
            arm = self._arm_request(request, params, kind, api_version)
            with core.lock:
                core.advance()
                result = found.handler(arm)
                if method != "GET":
                    core.save()
        except ArmError as arm_error:
            result = ArmResponse(arm_error.status, arm_error.body(), arm_error.headers)
        except Exception as exc:  # an emulator bug must still look like ARM
            bug = InternalServerError(f"The emulator failed: {type(exc).__name__}: {exc}.")
            result = ArmResponse(bug.status, bug.body(), {})
        core.counter.status(result.status)
        headers.update(result.headers)
        if result.body is None:
            return Response(b"", status=result.status, headers=headers)
        return Response(
            json.dumps(result.body), status=result.status, headers=headers,
            content_type="application/json; charset=utf-8",
        )  # fmt: skip

    def _admit(self, request: Request, subscription: str, provider: str) -> str:
        """ARM's checks before any routing: token, api-version, subscription, and that the
        provider knows the api-version; the api-version."""
        check_token(request.headers.get("Authorization"))
        api_version = request.args.get("api-version")
        if not api_version:
            raise MissingApiVersionParameter(
                "The api-version query parameter (?api-version=) is required for all requests."
            )
        if subscription:
            self.core.subscription(subscription)
        if provider:
            supported = API_VERSIONS.get(provider.lower())
            if supported is None:
                raise NotImplementedByEmulator(
                    f"The emulator does not implement the resource provider '{provider}'."
                )
            if api_version not in supported:
                raise NoRegisteredProviderFound(
                    f"No registered resource provider found for location and API version "
                    f"'{api_version}'. The supported api-versions of {provider} are "
                    f"'{', '.join(supported)}'."
                )
        return api_version

    def _refuse_unrouted(
        self, request: Request, allowed: list[str], kind: RequestKind, api_version: str
    ) -> NoReturn:
        """No route: 405 when the path takes other methods, 501 for a real operation the
        emulator does not implement, else 404."""
        method, path = request.method.upper(), request.path
        if allowed:
            raise MethodNotAllowed(
                f"The method {method} is not allowed on {path}; allowed: {', '.join(allowed)}.",
                {"Allow": ", ".join(allowed)},
            )
        stub, _, _ = self.unimplemented.resolve(method, path)
        if stub is not None:
            _not_implemented(self._arm_request(request, {}, kind, api_version))
        raise InvalidResourceType(
            f"The resource path '{path}' is not a resource type the emulator knows."
        )

    def _throttle(self, subscription: str, method: str, headers: dict[str, str]) -> None:
        """Take a token from the subscription's bucket for this kind of request; the
        remaining count goes into `headers`, an empty bucket answers 429."""
        throttle = self.core.throttle
        bucket = bucket_of(method)
        ok, remaining, wait = throttle.take(subscription, bucket)
        for name in header_names(bucket):
            headers[name] = str(remaining)
        if not ok:
            raise SubscriptionRequestsThrottled(
                f"Number of '{bucket[:-1]}' requests for subscription '{subscription}' "
                "exceeded the limit; retry after the period in the Retry-After header.",
                {"Retry-After": throttle.retry_after(wait)},
            )

    @staticmethod
    def _provider_of(segments: list[str]) -> str:
        for index, segment in enumerate(segments[:-1]):
            if segment.lower() == "providers":
                return segments[index + 1]
        return ""

    def _arm_request(
        self, request: Request, params: dict[str, str], kind: RequestKind, api_version: str
    ) -> ArmRequest:
        return ArmRequest(
            core=self.core,
            method=request.method.upper(),
            path=request.path,
            params=params,
            query={k: v for k, v in request.args.items()},
            raw_body=request.get_data(cache=True),
            content_type=request.headers.get("Content-Type", ""),
            base_url=request.host_url.rstrip("/"),
            api_version=api_version,
            kind=kind,
        )

    def _inject_fault(self, kind: RequestKind) -> None:
        fault = self.core.faults.on_request(kind)
        if fault is None:
            return
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.kind == "throttle":
            headers.setdefault("Retry-After", "1")
            raise SubscriptionRequestsThrottled(
                fault.message or "The request was throttled; retry after the Retry-After period.",
                headers,
            )
        status = fault.status or 500
        if status == 503:
            raise ServiceUnavailable(
                fault.message or "The service is temporarily unavailable.", headers
            )
        error = InternalServerError(
            fault.message or "The server encountered an internal error.", headers
        )
        if status != 500:
            error.status = status  # type: ignore[misc]
        raise error


class _QuietHandler(WSGIRequestHandler):
    """No access log: the admin API's request counts say what happened."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningServer:
    """An emulator listening on HTTPS in a background thread."""

    server: BaseWSGIServer
    thread: threading.Thread
    app: EmulatorApp

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve(
    core: Core, tls: TlsFiles, port: int = 0, info: dict[str, Any] | None = None
) -> RunningServer:
    """Start the emulator on 127.0.0.1:`port` (0 picks a free one) in a daemon thread."""
    app = EmulatorApp(core, info if info is not None else {})
    server = make_server(
        "127.0.0.1",
        port,
        app,
        threaded=True,
        ssl_context=(str(tls.cert_file), str(tls.key_file)),
        request_handler=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="emulator-https", daemon=True)
    thread.start()
    app.info.setdefault("endpoint", f"https://127.0.0.1:{server.server_port}")
    app.info.setdefault("caFile", str(Path(tls.ca_file)))
    return RunningServer(server, thread, app)


__all__ = ["KINDS", "EmulatorApp", "RunningServer", "check_token", "serve"]
