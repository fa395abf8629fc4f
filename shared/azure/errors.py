"""The one way the adapters say why an Azure call failed: status, code and message, one line;
and the codes an ARM error body holds."""

from __future__ import annotations

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


def error_codes(error: Any) -> list[str]:
    """Every code in an ARM error body, outermost first: a deployment's failure wraps the
    cause in `details` (`ResourceDeploymentFailure` around `QuotaExceeded`)."""
    if not isinstance(error, dict):
        return []
    code = error.get("code")
    own = [code] if isinstance(code, str) and code else []
    details = error.get("details")
    inner = details if isinstance(details, list) else []
    return own + [c for d in inner for c in error_codes(d)]
