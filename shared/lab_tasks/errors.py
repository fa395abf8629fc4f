"""What a lab task can end with besides success; the CLI maps them to exit codes."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError


class LabUsageError(Exception):
    """Bad arguments or unreadable inputs (exit 2). The message is one sentence."""


class LabTaskFailed(Exception):
    """Azure refused a request or an operation failed (exit 1)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def azure_error(error: HttpResponseError, what: str) -> LabTaskFailed:
    """One sentence from Azure's error: what was tried, the code, the message and details."""
    odata = getattr(error, "error", None)
    code = getattr(odata, "code", None) or getattr(error, "reason", None) or "Error"
    message = getattr(odata, "message", None) or str(error.message or error).splitlines()[0]
    details = [
        f"{getattr(d, 'code', '')}: {getattr(d, 'message', '')}"
        for d in (getattr(odata, "details", None) or [])
    ]
    text = f"{what} failed: {code}: {message.rstrip('.')}"
    if details:
        text += " (" + "; ".join(d.rstrip(".") for d in details) + ")"
    return LabTaskFailed(text + ".", str(code))
