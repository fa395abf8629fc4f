"""Azure's long operations, started here and followed by the orchestrators.

A begin call runs with `polling=False` and a hook that keeps the response's headers: the
`Azure-AsyncOperation` (or `Location`) URL is what a monitor reads between durable timers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from shared.azure import clients
from shared.azure.errors import nested_errors
from shared.run.payloads import ARM_ENDED, ErrorCause, OperationStatus


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


def operation_state(subscription: str, url: str) -> OperationStatus:
    """One read of an Azure-AsyncOperation status resource (with its Retry-After, if any)."""
    response = _read(subscription, url)
    body = response.json()
    body = body if isinstance(body, dict) else {}
    status = str(body.get("status", "")).lower()
    if status in ARM_ENDED:
        error = body.get("error") or {}
        detail = f"{error.get('code', '')}: {error.get('message', '')}" if error else ""
        state = "succeeded" if status == "succeeded" else "failed"
        causes = [ErrorCause(code=c, message=m) for c, m in nested_errors(error)]
        return OperationStatus(state=state, detail=detail, errors=causes)
    return OperationStatus(state="running", detail=status, retry_after=_retry_after(response))


def _retry_after(response: Any) -> float | None:
    """Retry-After in seconds (an HTTP date is not used by ARM's operations)."""
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return value if 0 < value < 86400 else None


def _read(subscription: str, url: str) -> Any:
    client = clients.compute(subscription)
    response = client.send_request(HttpRequest("GET", url))
    if response.status_code >= 400:
        raise HttpResponseError(response=response, error_format=ARMErrorFormat)
    return response


def operation_body(subscription: str, url: str) -> dict[str, Any]:
    """The status resource's JSON body; an error status raises the service's error."""
    body = _read(subscription, url).json()
    return body if isinstance(body, dict) else {}
