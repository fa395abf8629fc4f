"""Asynchronous operations: the status resource ARM clients poll.

A long-running request answers 201/202 with an absolute `Azure-AsyncOperation` URL; DELETE
and POST actions add `Location`, the same URL with `monitor=true` first in its query. Each
provider shapes its operation the way its recorded traffic shows:

- Microsoft.DevTestLab: `/subscriptions/{s}/providers/Microsoft.DevTestLab/locations/{l}/
  operations/{yyyyMMdd}-{guid}`; the status body is exactly `{"status": "Running"}` then
  `{"status": "Succeeded"}`, plus `error` when it failed (azure-cli lab recordings, 2024).
- Microsoft.Compute disks: `.../providers/Microsoft.Compute/locations/{l}/DiskOperations/
  {guid}`; the status body carries `startTime`, `endTime`, `status`, `name` and, once
  succeeded, `properties.output`; a GET on the `Location` answers the output itself
  (azure-sdk-for-python `test_mgmt_managed_disks.test_grant_access` recording).

Neither sends `Retry-After`: clients poll at their own interval.

An operation is a small managed state machine (as moto's `managed_state_model`): it is
`Running` until a transition moves it to `Succeeded`, `Failed` or `Canceled`. A resource's
state machine can move it when the resource's own work ends (`succeed`, `fail`, `cancel`),
or schedule the move ahead on the simulated clock (`schedule`); `advance` applies every
scheduled move whose time has come.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["Running", "Succeeded", "Failed", "Canceled"]
FINAL: tuple[Status, ...] = ("Succeeded", "Failed", "Canceled")

DTL_PROVIDER = "Microsoft.DevTestLab"
COMPUTE_PROVIDER = "Microsoft.Compute"
# The collection each provider's operations live in, as recorded.
COLLECTIONS: dict[str, str] = {
    DTL_PROVIDER.lower(): "operations",
    COMPUTE_PROVIDER.lower(): "DiskOperations",
}


class Transition(BaseModel):
    """A move to a final status due at a simulated time."""

    at: dt.datetime
    status: Status
    error_code: str | None = None
    error_message: str | None = None


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
    # A planned failure's inner errors (ARM nests a deployment's cause in `details`).
    error_details: list[dict[str, str]] = Field(default_factory=list)
    start: dt.datetime
    end: dt.datetime | None = None
    result: dict[str, Any] | None = None
    scheduled: Transition | None = None

    @property
    def done(self) -> bool:
        return self.status in FINAL

    @property
    def collection(self) -> str:
        return COLLECTIONS.get(self.provider.lower(), "operations")

    # ----- transitions -------------------------------------------------------------------
    def _finish(
        self, now: dt.datetime, status: Status, code: str | None, message: str | None
    ) -> None:
        if self.done:
            return
        self.status = status
        self.end = now
        self.error_code = code
        self.error_message = message
        self.scheduled = None

    def succeed(self, now: dt.datetime, result: dict[str, Any] | None = None) -> None:
        if self.done:
            return
        if result is not None:
            self.result = result
        self._finish(now, "Succeeded", None, None)

    def fail(self, now: dt.datetime, code: str, message: str) -> None:
        self._finish(now, "Failed", code, message)

    def cancel(self, now: dt.datetime, message: str) -> None:
        self._finish(now, "Canceled", "Canceled", message)

    def schedule(
        self,
        at: dt.datetime,
        status: Status = "Succeeded",
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Move to `status` once the simulated clock reaches `at`."""
        if status == "Running":
            raise ValueError("an operation can only be scheduled to a final status")
        self.scheduled = Transition(at=at, status=status, error_code=code, error_message=message)

    def advance(self, now: dt.datetime) -> None:
        """Apply the scheduled transition if its time has come."""
        due = self.scheduled
        if self.done or due is None or due.at > now:
            return
        if due.status == "Succeeded":
            self._finish(due.at, "Succeeded", None, None)
        else:
            self._finish(due.at, due.status, due.error_code, due.error_message)

    # ----- wire form --------------------------------------------------------------------
    def status_path(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.provider}"
            f"/locations/{self.location}/{self.collection}/{self.id}"
        )

    def headers(self, base_url: str, api_version: str, location: bool) -> dict[str, str]:
        """`Azure-AsyncOperation`, and for DELETE and POST actions `Location`: the same
        operation URL with `monitor=true` first in the query."""
        url = f"{base_url}{self.status_path()}"
        headers = {"Azure-AsyncOperation": f"{url}?api-version={api_version}"}
        if location:
            headers["Location"] = f"{url}?monitor=true&api-version={api_version}"
        return headers

    def error_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.error_code, "message": self.error_message}
        if self.status == "Failed" and self.error_details:
            body["details"] = self.error_details
        return body

    def status_body(self) -> dict[str, Any]:
        """The body of a GET on `Azure-AsyncOperation`, in the provider's recorded shape."""
        if self.provider.lower() == COMPUTE_PROVIDER.lower():
            body: dict[str, Any] = {"startTime": iso_offset(self.start)}
            if self.done and self.end is not None:
                body["endTime"] = iso_offset(self.end)
            body["status"] = self.status
            if self.status == "Succeeded" and self.result is not None:
                body["properties"] = {"output": self.result}
            if self.status in ("Failed", "Canceled"):
                body["error"] = self.error_body()
            body["name"] = self.id
            return body
        dtl: dict[str, Any] = {"status": self.status}
        if self.status in ("Failed", "Canceled"):
            dtl["error"] = self.error_body()
        return dtl


def operation_id(provider: str, now: dt.datetime) -> str:
    """DevTest Labs ids are `{yyyyMMdd}-{guid}` (the day the operation started); Compute's
    are a bare GUID."""
    guid = str(uuid.uuid4())
    if provider.lower() == DTL_PROVIDER.lower():
        return f"{now.astimezone(dt.UTC):%Y%m%d}-{guid}"
    return guid


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
        id=operation_id(provider, now),
        subscription=subscription,
        location=location.lower().replace(" ", ""),
        provider=provider,
        name=name,
        resource_id=resource_id,
        start=now,
    )


def iso(value: dt.datetime) -> str:
    """ARM's timestamp form: ISO 8601 in UTC with a `Z` and 7 fraction digits at most."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def dtl_time(value: dt.datetime) -> str:
    """DevTest Labs' timestamp form, as its recordings show it (`2024-09-09T10:02:38.4660092
    +00:00`, `2024-09-05T09:11:18.11946+00:00`): the fraction's trailing zeros dropped
    (Azure writes up to 7 digits, this clock has 6), and a `+00:00` offset."""
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "+00:00"


def iso_offset(value: dt.datetime) -> str:
    """Compute's timestamp form: 7 fraction digits and a `+00:00` offset."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"
