"""Azure's long operations, started here and followed by the orchestrators.

A begin call runs with `polling=False` and a hook that keeps the response's headers: the
`Azure-AsyncOperation` (or `Location`) URL is what a monitor reads between durable timers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from shared.azure import clients

ENDED = ("succeeded", "failed", "canceled")  # an operation's terminal statuses, lowercase


def keep_headers(into: dict[str, str]) -> Callable[[PipelineResponse[Any, Any]], None]:
    """A `raw_response_hook` that copies the response's headers (keys lowercased) `into`."""

    def hook(response: PipelineResponse[Any, Any]) -> None:
        into.update({k.lower(): v for k, v in response.http_response.headers.items()})

    return hook


def operation_url(headers: dict[str, str], what: str) -> str:
    url = headers.get("azure-asyncoperation") or headers.get("location")
    if not url:
        raise RuntimeError(f"the {what} was accepted without an operation to follow")
    return url


@dataclass(frozen=True)
class OperationState:
    state: str  # "running" | "succeeded" | "failed"
    detail: str = ""


def operation_state(subscription: str, url: str) -> OperationState:
    """One read of an Azure-AsyncOperation status resource."""
    body = operation_body(subscription, url)
    status = str(body.get("status", "")).lower()
    if status in ENDED:
        error = body.get("error") or {}
        detail = f"{error.get('code', '')}: {error.get('message', '')}" if error else ""
        return OperationState("succeeded" if status == "succeeded" else "failed", detail)
    return OperationState("running", status)


def operation_body(subscription: str, url: str) -> dict[str, Any]:
    """The status resource's JSON body; an error status raises the service's error."""
    client = clients.compute(subscription)
    response = client.send_request(HttpRequest("GET", url))
    if response.status_code >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    body = response.json()
    return body if isinstance(body, dict) else {}
