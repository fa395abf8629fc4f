"""Asynchronous operations: the status resource ARM clients poll.

A long-running request answers 201/202 with an absolute `Azure-AsyncOperation` URL (and
`Location` for DELETE and POST actions). The operation record stays `Running` until the
resource's state machine finishes it as `Succeeded` or `Failed`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel

Status = Literal["Running", "Succeeded", "Failed", "Canceled"]


class Operation(BaseModel):
    """One asynchronous operation of a resource provider."""

    id: str
    subscription: str
    location: str
    provider: str
    name: str
    resource_id: str
    status: Status = "Running"
    error_code: str | None = None
    error_message: str | None = None
    start: dt.datetime
    end: dt.datetime | None = None
    result: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status != "Running"

    def succeed(self, now: dt.datetime, result: dict[str, Any] | None = None) -> None:
        if self.done:
            return
        self.status = "Succeeded"
        self.end = now
        self.result = result

    def fail(self, now: dt.datetime, code: str, message: str) -> None:
        if self.done:
            return
        self.status = "Failed"
        self.end = now
        self.error_code = code
        self.error_message = message

    def cancel(self, now: dt.datetime, message: str) -> None:
        if self.done:
            return
        self.status = "Canceled"
        self.end = now
        self.error_code = "Canceled"
        self.error_message = message

    def status_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.provider}"
            f"/locations/{self.location}/operations/{self.id}"
        )

    def result_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.provider}"
            f"/locations/{self.location}/operationResults/{self.id}"
        )

    def status_body(self) -> dict[str, Any]:
        """The body of the Azure-AsyncOperation GET, as DevTest Labs and Compute shape it."""
        body: dict[str, Any] = {
            "id": self.status_path().lower(),
            "name": self.id,
            "status": self.status,
            "startTime": iso(self.start),
        }
        if self.end is not None:
            body["endTime"] = iso(self.end)
        if self.status in ("Failed", "Canceled"):
            body["error"] = {"code": self.error_code, "message": self.error_message}
        if self.status == "Succeeded" and self.result is not None:
            body["properties"] = {"output": self.result}
        return body


def new_operation(
    *,
    subscription: str,
    location: str,
    provider: str,
    name: str,
    resource_id: str,
    now: dt.datetime,
) -> Operation:
    return Operation(
        id=str(uuid.uuid4()),
        subscription=subscription,
        location=location.lower(),
        provider=provider,
        name=name,
        resource_id=resource_id,
        start=now,
    )


def iso(value: dt.datetime) -> str:
    """ARM's timestamp form: ISO 8601 in UTC with a `Z` and 7 fraction digits at most."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
