"""Microsoft.Resources handlers: resource groups, their resources and template deployments.

Shapes follow azure-cli's recorded `group deployment create` traffic
(`test_lab_environment_mgmt.yaml`): a PUT answers 201 with `provisioningState: Accepted`
and an `Azure-AsyncOperation` at `deployments/{name}/operationStatuses/{id}` whose body is
`{"status": ...}` (with `error` when it failed); a DELETE answers 202 with a `Location` at
`/subscriptions/{s}/operationresults/{id}` that answers 202 until it is done, then 204.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator.exceptions import OperationNotFound
from emulator.http import ArmRequest, ArmResponse
from emulator.lro import iso
from emulator.registry import ResourceGroupState
from emulator.resources.models import output_resources
from emulator.resources.state import DeployedResource, Deployment


def _group(request: ArmRequest) -> ResourceGroupState:
    p = request.params
    return request.core.resource_group(p["subscription"], p["resourceGroup"])


def group_body(subscription: str, group: ResourceGroupState) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"/subscriptions/{subscription}/resourceGroups/{group.name}",
        "name": group.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": group.location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if group.tags:
        body["tags"] = dict(group.tags)
    if group.managed_by:
        body["managedBy"] = group.managed_by
    return body


def resource_body(resource: DeployedResource) -> dict[str, Any]:
    body: dict[str, Any] = {"id": resource.id, "name": resource.name, "type": resource.type}
    if resource.location:
        body["location"] = resource.location
    if resource.tags:
        body["tags"] = dict(resource.tags)
    return body


def _duration(start: dt.datetime, end: dt.datetime) -> str:
    return f"PT{max((end - start).total_seconds(), 0.0):.7f}S"


def deployment_body(request: ArmRequest, deployment: Deployment) -> dict[str, Any]:
    end = deployment.ended or request.core.now()
    props: dict[str, Any] = {
        "templateHash": deployment.template_hash,
        "parameters": {name: dict(p) for name, p in deployment.parameters.items()},
        "mode": deployment.mode,
        "provisioningState": deployment.provisioning_state,
        "timestamp": iso(end),
        "duration": _duration(deployment.started, end),
        "correlationId": deployment.correlation_id,
        "providers": _providers(deployment),
        "dependencies": [],
    }
    if deployment.provisioning_state == "Succeeded":
        props["outputs"] = deployment.outputs or {}
        props["outputResources"] = [{"id": rid} for rid in output_resources(deployment)]
    if deployment.error is not None:
        props["error"] = deployment.error
    return {
        "id": deployment.id,
        "name": deployment.name,
        "type": "Microsoft.Resources/deployments",
        "properties": props,
    }


def _providers(deployment: Deployment) -> list[dict[str, Any]]:
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for state in deployment.operations:
        namespace, _, rest = state.resource_type.partition("/")
        entries = by_namespace.setdefault(namespace, [])
        if all(e["resourceType"] != rest for e in entries):
            location = state.record.location if state.record else None
            entries.append({"resourceType": rest, "locations": [location]})
    return [{"namespace": ns, "resourceTypes": types} for ns, types in by_namespace.items()]


def _operation_body(deployment: Deployment, index: int) -> dict[str, Any]:
    state = deployment.operations[index]
    props: dict[str, Any] = {
        "provisioningOperation": "Create",
        "provisioningState": state.provisioning_state,
        "timestamp": iso(state.timestamp),
        "trackingId": deployment.correlation_id,
        "targetResource": {
            "id": state.resource_id,
            "resourceType": state.resource_type,
            "resourceName": state.resource_name,
        },
    }
    if state.status_code is not None:
        props["statusCode"] = state.status_code
    if state.status_message is not None:
        props["statusMessage"] = state.status_message
    return {
        "id": f"{deployment.id}/operations/{state.operation_id}",
        "operationId": state.operation_id,
        "properties": props,
    }


# ----- resource groups -------------------------------------------------------------------
def get_group(request: ArmRequest) -> ArmResponse:
    return ArmResponse(200, group_body(request.params["subscription"], _group(request)))


def list_group_resources(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    return ArmResponse(200, {"value": [resource_body(r) for r in group.resources.values()]})


# ----- deployments -------------------------------------------------------------------------
def list_deployments(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    items = [deployment_body(request, d) for d in group.deployments.values()]
    return ArmResponse(200, {"value": items})


def get_deployment(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    deployment = request.core.resources.deployment(group, request.params["name"])
    return ArmResponse(200, deployment_body(request, deployment))


def put_deployment(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    deployment, operation = request.core.resources.create(
        request.params["subscription"], group, request.params["name"], request.json(), request.kind
    )
    body = deployment_body(request, deployment)
    body["properties"]["provisioningState"] = "Accepted"
    status = f"{deployment.id}/operationStatuses/{operation.id}"
    return ArmResponse(201, body, {"Azure-AsyncOperation": request.absolute(status)})


def delete_deployment(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    found = group.deployments.get(request.params["name"].lower())
    if found is None:
        return ArmResponse(204)
    operation = request.core.resources.delete(group, found)
    location = f"/subscriptions/{request.params['subscription']}/operationresults/{operation.id}"
    return ArmResponse(202, None, {"Location": request.absolute(location)})


def get_deployment_status(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    deployment = request.core.resources.deployment(group, request.params["name"])
    if deployment.operation_id != request.params["id"]:
        raise OperationNotFound(f"The operation '{request.params['id']}' was not found.")
    if deployment.running:
        return ArmResponse(200, {"status": "Running"})
    body: dict[str, Any] = {"status": "Failed" if deployment.error else "Succeeded"}
    if deployment.error is not None:
        body["error"] = deployment.error
    return ArmResponse(200, body)


def list_deployment_operations(request: ArmRequest) -> ArmResponse:
    group = _group(request)
    deployment = request.core.resources.deployment(group, request.params["name"])
    items = [_operation_body(deployment, i) for i in range(len(deployment.operations))]
    return ArmResponse(200, {"value": items})


def get_operation_result(request: ArmRequest) -> ArmResponse:
    operation = request.core.operation(request.params["id"])
    if operation is None or operation.subscription.lower() != (
        request.params["subscription"].lower()
    ):
        raise OperationNotFound(f"The operation '{request.params['id']}' was not found.")
    if not operation.done:
        location = (
            f"/subscriptions/{request.params['subscription']}/operationresults/{operation.id}"
        )
        return ArmResponse(202, None, {"Location": request.absolute(location)})
    if operation.status != "Succeeded":
        error = {"code": operation.error_code, "message": operation.error_message}
        return ArmResponse(400, {"error": error})
    return ArmResponse(204)
