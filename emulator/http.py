"""The request/response types every service's responses module uses, and the router.

Paths match case-insensitively; captured names keep the caller's casing. A path that
matches a route with another method answers 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.exceptions import InvalidRequestContent, UnsupportedMediaType
from emulator.faults import RequestKind
from emulator.lro import Operation

if TYPE_CHECKING:
    from emulator.core import Core


@dataclass
class ArmResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ArmRequest:
    core: Core
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    content_type: str
    base_url: str
    api_version: str
    kind: RequestKind

    def json(self) -> dict[str, Any]:
        """The JSON object body; 400 when it is missing, malformed or not an object."""
        if not self.raw_body.strip():
            raise InvalidRequestContent("The request content was empty; a JSON object is needed.")
        if self.content_type and "json" not in self.content_type.lower():
            raise UnsupportedMediaType(
                f"The content type '{self.content_type}' is not supported; send application/json."
            )
        try:
            data = json.loads(self.raw_body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidRequestContent(
                f"The request content was invalid and could not be deserialized: {exc}."
            ) from None
        if not isinstance(data, dict):
            raise InvalidRequestContent("The request content must be a JSON object.")
        return data

    def json_or_empty(self) -> dict[str, Any]:
        return self.json() if self.raw_body.strip() else {}

    def absolute(self, path: str) -> str:
        return f"{self.base_url}{path}?api-version={self.api_version}"

    # The polling headers carry no `Retry-After`: the recorded ones have none.
    def put_reply(self, body: dict[str, Any], operation: Operation | None) -> ArmResponse:
        """A PUT's reply: 200 when it changed a resource in place, 201 with
        `Azure-AsyncOperation` when it started the resource's operation."""
        if operation is None:
            return ArmResponse(200, body)
        headers = operation.headers(self.base_url, self.api_version, location=False)
        return ArmResponse(201, body, headers)

    def accepted(self, operation: Operation) -> ArmResponse:
        """A DELETE's or POST action's reply: 202, polled at `Azure-AsyncOperation` or
        `Location`."""
        headers = operation.headers(self.base_url, self.api_version, location=True)
        return ArmResponse(202, None, headers)


Handler = Callable[[ArmRequest], ArmResponse]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    handler: Handler
    provider: str
    resource_type: str
    operation: str


def route(
    method: str, pattern: str, handler: Handler, provider: str, resource_type: str, action: str
) -> Route:
    segments = tuple(s for s in pattern.split("/") if s)
    return Route(method.upper(), segments, handler, provider, resource_type, action)


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, actual in zip(pattern, segments, strict=True):
        if expected.startswith("{") and expected.endswith("}"):
            if not actual:
                return None
            params[expected[1:-1]] = actual
        elif expected.lower() != actual.lower():
            return None
    return params


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
        """The route and captured params, or the allowed methods when only the path matched."""
        segments = [s for s in path.split("/") if s]
        allowed: list[str] = []
        for candidate in self.routes:
            params = _match(candidate.pattern, segments)
            if params is None:
                continue
            if candidate.method == method.upper():
                return candidate, params, []
            allowed.append(candidate.method)
        return None, {}, sorted(set(allowed))
