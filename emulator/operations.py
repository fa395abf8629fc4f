"""The asynchronous-operation resources: DevTest Labs' `operations` and Compute's
`DiskOperations` (see `emulator.lro` for the recorded shapes).

The `Azure-AsyncOperation` URL answers the status body. The `Location` URL is the same
resource with `monitor=true`: while the operation runs it answers 202 with `Location`
again; once it is done it answers 200 with what the operation produced (an empty body
when it produced nothing), or the operation's error with 400 when it failed.
"""

from __future__ import annotations

from emulator.exceptions import OperationNotFound
from emulator.http import ArmRequest, ArmResponse, Route, route
from emulator.lro import COLLECTIONS, Operation

_BASE = "/subscriptions/{subscription}/providers/{provider}/locations/{location}"
T_OPERATION = "operations"


def _operation(request: ArmRequest, collection: str) -> Operation:
    p = request.params
    operation = request.core.operation(p["id"])
    if (
        operation is None
        or operation.provider.lower() != p["provider"].lower()
        or operation.subscription.lower() != p["subscription"].lower()
        or operation.collection.lower() != collection.lower()
        or COLLECTIONS.get(p["provider"].lower(), "operations").lower() != collection.lower()
    ):
        raise OperationNotFound(f"The operation '{p['id']}' was not found.")
    return operation


def _answer(request: ArmRequest, collection: str) -> ArmResponse:
    operation = _operation(request, collection)
    if request.query.get("monitor", "").lower() != "true":
        return ArmResponse(200, operation.status_body())
    if not operation.done:
        headers = operation.headers(request.base_url, request.api_version, location=True)
        return ArmResponse(202, None, {"Location": headers["Location"]})
    if operation.status != "Succeeded":
        return ArmResponse(400, {"error": operation.error_body()})
    # With nothing to return the final answer is a bare 200, as the spec examples of the
    # actions show (Disk_EndGetAccess, VirtualMachines_Stop: `"200": {}`).
    return ArmResponse(200, operation.result)


def get_operation(request: ArmRequest) -> ArmResponse:
    return _answer(request, "operations")


def get_disk_operation(request: ArmRequest) -> ArmResponse:
    return _answer(request, "DiskOperations")


ROUTES: list[Route] = [
    route("GET", _BASE + "/operations/{id}", get_operation, "*", T_OPERATION,
          "{provider}/locations/operations/read"),
    route("GET", _BASE + "/DiskOperations/{id}", get_disk_operation, "*", T_OPERATION,
          "{provider}/locations/DiskOperations/read"),
]  # fmt: skip
