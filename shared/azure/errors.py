"""The one way the adapters say why an Azure call failed: status, code and message, one line."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError

from shared.model.text import first_line


def reason(exc: HttpResponseError) -> str:
    """`404 ResourceNotFound: The lab was not found.`: what the service said, on one line.

    ARM errors carry their code and message in `error`; storage errors carry the code in
    `error_code` and a message whose further lines are the request id and time."""
    code = exc.error.code if exc.error else getattr(exc, "error_code", None)
    message = exc.error.message if exc.error else str(exc.message)
    return first_line(f"{exc.status_code} {code or ''}: {first_line(message)}".replace(" :", ":"))
