"""The one way the adapters say why an Azure call failed: status, code and message, one line;
and the errors an ARM error body nests."""

from __future__ import annotations

import json
from typing import Any

from azure.core.exceptions import HttpResponseError

from shared.model.text import first_line


def reason(exc: HttpResponseError) -> str:
    """`404 ResourceNotFound: The lab was not found.`: what the service said, on one line.

    ARM errors carry their code and message in `error`; storage errors carry the code in
    `error_code` and a message whose further lines are the request id and time."""
    code = exc.error.code if exc.error else getattr(exc, "error_code", None)
    message = exc.error.message if exc.error else str(exc.message)
    return first_line(f"{exc.status_code} {code or ''}: {first_line(message)}".replace(" :", ":"))


def nested_errors(error: Any) -> list[tuple[str, str]]:
    """Every (code, message) in an ARM error body, outermost first: a deployment's failure
    wraps its cause in `details` (`ResourceDeploymentFailure` around `QuotaExceeded`), and
    sometimes as a JSON error body in a detail's message (`DeploymentFailed`, `Conflict`,
    then `{"error": {"code": "OperationNotAllowed", ...}}`)."""
    if not isinstance(error, dict):
        return []
    code, message = error.get("code"), error.get("message")
    message = message if isinstance(message, str) else ""
    found = [(code, message)] if isinstance(code, str) and code else []
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        found += nested_errors(detail)
    if message.lstrip().startswith("{"):
        try:
            inner = json.loads(message)
        except ValueError:
            inner = None
        if isinstance(inner, dict):
            found += nested_errors(inner.get("error"))
    return found
