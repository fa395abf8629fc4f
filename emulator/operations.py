"""The asynchronous-operation resources of every provider: status and result."""

from __future__ import annotations

from emulator.exceptions import OperationNotFound
from emulator.http import ArmRequest, ArmResponse, Route, route
from emulator.lro import Operation

_BASE = "/subscriptions/{subscription}/providers/{provider}/locations/{location}"
T_OPERATION = "operations"


def _operation(request: ArmRequest) -> Operation:
    p = request.params
    operation = request.core.operation(p["id"])
    if (
        operation is None
        or operation.provider.lower() != p["provider"].lower()
        or operation.subscription.lower() != p["subscription"].lower()
    ):
        raise OperationNotFound(f"The operation '{p['id']}' was not found.")
    return operation


def get_status(request: ArmRequest) -> ArmResponse:
    operation = _operation(request)
    headers: dict[str, str] = {}
    retry = request.retry_after()
    if not operation.done and retry is not None:
        headers["Retry-After"] = retry
    return ArmResponse(200, operation.status_body(), headers)


def get_result(request: ArmRequest) -> ArmResponse:
    operation = _operation(request)
    if not operation.done:
        headers = {"Location": request.absolute(operation.result_path())}
        retry = request.retry_after()
        if retry is not None:
            headers["Retry-After"] = retry
        return ArmResponse(202, None, headers)
    if operation.status == "Failed":
        error = {"code": operation.error_code, "message": operation.error_message}
        return ArmResponse(400, {"error": error})
    if operation.result is not None:
        return ArmResponse(200, operation.result)
    return ArmResponse(204)


ROUTES: list[Route] = [
    route("GET", _BASE + "/operations/{id}", get_status, "*", T_OPERATION,
          "{provider}/locations/operations/read"),
    route("GET", _BASE + "/operationResults/{id}", get_result, "*", T_OPERATION,
          "{provider}/locations/operationResults/read"),
]  # fmt: skip
