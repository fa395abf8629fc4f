"""Microsoft.Resources rules: resource-group template deployments (state in `state`). No HTTP.

A deployment is validated when it is PUT (parameters against the template's declarations,
every expression of its variables and resources evaluated; see `expressions`), then runs
as a state machine on simulated time:

- a `Microsoft.DevTestLab/labs/virtualmachines` resource is created through DevTest Labs'
  own rules (`DevTestLabsBackend.create_vm`, with its faults), and its operation decides
  that deployment operation's outcome;
- a resource of a provider the emulator does not model is held in the resource group as a
  plain record (name, type, location, tags) once `durations.resource_deploy` passed;
- other DevTest Labs types, nested deployments, copy loops and `Complete` mode are not
  implemented: the PUT answers 501 instead of pretending.

When every operation ended, the deployment is `Succeeded` with its outputs evaluated, or
`Failed` with ARM's `DeploymentFailed` error and one detail per failed operation (a
`fail_operation` fault on the deployment's request adds its own detail).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any, Literal

from emulator.devtestlabs.models import DevTestLabsBackend
from emulator.exceptions import (
    ArmError,
    InvalidRequestContent,
    MissingRequiredProperty,
    NotImplementedByEmulator,
)
from emulator.faults import RequestKind
from emulator.lro import Operation
from emulator.registry import Registry, ResourceGroupState
from emulator.resources import exceptions as rx
from emulator.resources.expressions import ExpressionError, Scope, evaluate
from emulator.resources.state import DeployedResource, Deployment, DeploymentOperationState

PROVIDER = "Microsoft.Resources"
LAB_VM_TYPE = "microsoft.devtestlab/labs/virtualmachines"
T_LAB_VM = "Microsoft.DevTestLab/labs/virtualmachines"
FAILED_MESSAGE = (
    "At least one resource deployment operation failed. Please list deployment operations "
    "for details. Please see https://aka.ms/arm-debug for usage details."
)
_TYPES = {
    "string": "String",
    "securestring": "SecureString",
    "int": "Int",
    "bool": "Bool",
    "object": "Object",
    "secureobject": "SecureObject",
    "array": "Array",
}


def _invalid(message: str) -> rx.InvalidTemplate:
    return rx.InvalidTemplate(f"Deployment template validation failed: '{message}'.")


def _declared_type(declaration: Any, name: str) -> str:
    kind = (
        str((declaration or {}).get("type") or "").lower() if isinstance(declaration, dict) else ""
    )
    if kind not in _TYPES:
        raise _invalid(
            f"The template parameter '{name}' has type '{kind}'; expected one of "
            f"{', '.join(_TYPES.values())}"
        )
    return kind


def _check_type(name: str, kind: str, value: Any) -> None:
    fits = {
        "string": isinstance(value, str),
        "securestring": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "object": isinstance(value, dict),
        "secureobject": isinstance(value, dict),
        "array": isinstance(value, list),
    }[kind]
    if not fits:
        raise _invalid(
            f"Template parameter JToken type is not valid for parameter '{name}'. Expected "
            f"'{_TYPES[kind]}'. Actual '{type(value).__name__}'. Please see "
            "https://aka.ms/arm-create-parameter-file for usage details"
        )


def resolve_parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Parameter values by declared name: given values checked, defaults for the rest."""
    declared = template.get("parameters") or {}
    if not isinstance(declared, dict):
        raise _invalid("The template 'parameters' must be an object")
    by_lower = {k.lower(): k for k in declared}
    extra = [n for n in given if n.lower() not in by_lower]
    if extra:
        raise _invalid(
            f"The template parameters '{', '.join(extra)}' in the parameters file are not "
            "valid; they are not present in the original template and can therefore not be "
            "provided at deployment time. The only supported parameters for this template "
            f"are '{', '.join(declared)}'. Please see https://aka.ms/arm-pass-parameter-values "
            "for usage details"
        )
    values: dict[str, Any] = {}
    given_lower = {k.lower(): v for k, v in given.items()}
    defaults: dict[str, Any] = {}
    for name, declaration in declared.items():
        kind = _declared_type(declaration, name)
        if name.lower() in given_lower:
            value = given_lower[name.lower()]
            _check_type(name, kind, value)
            values[name] = value
        elif "defaultValue" in declaration:
            defaults[name] = declaration["defaultValue"]
        else:
            raise _invalid(
                f"The value for the template parameter '{name}' is not provided. Please see "
                "https://aka.ms/arm-create-parameter-file for usage details"
            )
        allowed = declaration.get("allowedValues")
        if name in values and isinstance(allowed, list) and values[name] not in allowed:
            raise _invalid(
                f"The provided value '{values[name]}' for the template parameter '{name}' is "
                f"not valid. The parameter value is not part of the allowed value(s): "
                f"'{','.join(str(a) for a in allowed)}'"
            )
    values.update(defaults)
    return values


def _flatten(resources: Any, parent: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    if resources is None:
        return []
    if not isinstance(resources, list):
        raise _invalid("The template 'resources' must be an array")
    flat: list[dict[str, Any]] = []
    for resource in resources:
        if not isinstance(resource, dict) or "type" not in resource or "name" not in resource:
            raise _invalid("Every template resource needs a 'type' and a 'name'")
        if "copy" in resource:
            raise NotImplementedByEmulator(
                "The emulator does not deploy resources with a 'copy' loop."
            )
        item = {k: v for k, v in resource.items() if k != "resources"}
        if parent is not None:
            item["_parent"] = parent
        flat.append(item)
        children = resource.get("resources")
        if children:
            flat.extend(_flatten(children, (str(resource["type"]), str(resource["name"]))))
    return flat


def _kept_parameter(kind: str, value: Any) -> dict[str, Any]:
    """A parameter as the deployment keeps it: secure values are used, never kept."""
    if kind.startswith("secure"):
        return {"type": _TYPES[kind]}
    return {"type": _TYPES[kind], "value": value}


def _incremental_inline_template(props: dict[str, Any]) -> dict[str, Any]:
    """The template of an Incremental deployment that carries it inline (what the emulator
    runs: Complete mode and linked templates answer 501)."""
    mode = str(props.get("mode") or "")
    if mode.lower() not in ("incremental", "complete"):
        raise rx.InvalidDeploymentMode(
            f"The deployment mode '{mode}' is not valid; it must be Incremental or Complete."
        )
    if mode.lower() == "complete":
        raise NotImplementedByEmulator("The emulator does not run Complete mode deployments.")
    if "templateLink" in props:
        raise NotImplementedByEmulator(
            "The emulator does not fetch linked templates; send the template inline."
        )
    template = props.get("template")
    if not isinstance(template, dict):
        raise MissingRequiredProperty.of_body("properties.template")
    return template


def _scope(
    subscription: str, group: ResourceGroupState, template: dict[str, Any], values: dict[str, Any]
) -> Scope:
    """What the template's expressions see, deployed into `group`."""
    return Scope(
        subscription=subscription,
        resource_group=group.name,
        location=group.location,
        parameters=values,
        variables=dict(template.get("variables") or {}),
        tags=dict(group.tags),
    )


def _kept_parameters(template: dict[str, Any], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parameters as the deployment keeps them: each with its declared type."""
    declared = template.get("parameters") or {}
    return {n: _kept_parameter(_declared_type(declared[n], n), v) for n, v in values.items()}


def _template_hash(template: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return str(int.from_bytes(digest[:8], "big"))


class ResourcesBackend:
    """The rules of Microsoft.Resources deployments over the registry; a lab VM resource
    is created by DevTest Labs' own rules."""

    def __init__(self, registry: Registry, devtestlabs: DevTestLabsBackend) -> None:
        self.registry = registry
        self.devtestlabs = devtestlabs

    # ----- lookups -------------------------------------------------------------------
    def deployment(self, group: ResourceGroupState, name: str) -> Deployment:
        found = group.deployments.get(name.lower())
        if found is None:
            raise rx.DeploymentNotFound(
                f"Deployment '{name}' could not be found under resource group '{group.name}'."
            )
        return found

    # ----- create ----------------------------------------------------------------------
    def create(
        self,
        subscription: str,
        group: ResourceGroupState,
        name: str,
        body: dict[str, Any],
        request: RequestKind,
    ) -> tuple[Deployment, Operation]:
        props = body.get("properties")
        if not isinstance(props, dict):
            raise MissingRequiredProperty.of_body("properties")
        existing = group.deployments.get(name.lower())
        if existing is not None and existing.running:
            raise rx.DeploymentActive(
                f"The deployment '{name}' is still active; wait until it has finished."
            )
        template = _incremental_inline_template(props)
        given = self._given_parameters(props.get("parameters"))
        values = resolve_parameters(template, given)
        scope = _scope(subscription, group, template, values)
        now = self.registry.now()
        deployment_id = (
            f"/subscriptions/{subscription}/resourceGroups/{group.name}"
            f"/providers/Microsoft.Resources/deployments/{name}"
        )
        planned = self._evaluate_resources(template, scope)
        outputs, output_error = self._evaluate_outputs(template, scope)
        operation = self.registry.start_operation(
            PROVIDER, group.location, "deploy", deployment_id, subscription
        )
        seconds = self.registry.scenario.durations.resource_deploy
        deployment = Deployment(
            id=deployment_id,
            name=name,
            subscription=subscription,
            resource_group=group.name,
            mode="Incremental",
            template=template,
            parameters=_kept_parameters(template, values),
            template_hash=_template_hash(template),
            correlation_id=str(uuid.uuid4()),
            started=now,
            ready_at=now
            + dt.timedelta(seconds=seconds * self.registry.faults.slow_factor(request)),
            outputs=outputs,
            output_error=output_error,
            operation_id=operation.id,
        )
        fault = self.registry.faults.on_operation(request)
        if fault is not None:
            deployment.planned_failure = (
                fault.code or "ResourceDeploymentFailure",
                fault.message or f"The deployment '{name}' failed.",
            )
        for resource in planned:
            deployment.operations.append(self._start_resource(subscription, group, resource, name))
        deployment.provisioning_state = "Running"
        group.deployments[name.lower()] = deployment
        return deployment, operation

    @staticmethod
    def _given_parameters(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise InvalidRequestContent("The property 'properties.parameters' must be an object.")
        given: dict[str, Any] = {}
        for pname, entry in raw.items():
            if isinstance(entry, dict) and "reference" in entry:
                raise NotImplementedByEmulator(
                    f"The emulator does not resolve Key Vault references (parameter '{pname}')."
                )
            if not isinstance(entry, dict) or "value" not in entry:
                raise InvalidRequestContent(
                    f"The deployment parameter '{pname}' must be an object with a 'value'."
                )
            given[pname] = entry["value"]
        return given

    def _evaluate_resources(self, template: dict[str, Any], scope: Scope) -> list[dict[str, Any]]:
        planned: list[dict[str, Any]] = []
        for raw in _flatten(template.get("resources")):
            where = f"resource '{raw.get('name')}'"
            try:
                if "condition" in raw and not evaluate(raw["condition"], scope):
                    continue
                kind = str(evaluate(raw["type"], scope))
                name = str(evaluate(raw["name"], scope))
                parent = raw.get("_parent")
                if parent is not None and "/" not in kind:
                    parent_type = str(evaluate(parent[0], scope))
                    parent_name = str(evaluate(parent[1], scope))
                    kind, name = f"{parent_type}/{kind}", f"{parent_name}/{name}"
                resource = {
                    "type": kind,
                    "name": name,
                    "location": evaluate(raw.get("location"), scope),
                    "tags": evaluate(raw.get("tags") or {}, scope),
                    "properties": evaluate(raw.get("properties") or {}, scope),
                }
            except ExpressionError as exc:
                raise _invalid(
                    f"Unable to process template language expressions for {where}: {exc}"
                ) from None
            namespace = kind.split("/", 1)[0].lower()
            if kind.lower() == "microsoft.resources/deployments":
                raise NotImplementedByEmulator("The emulator does not run nested deployments.")
            if namespace == "microsoft.devtestlab" and kind.lower() != LAB_VM_TYPE:
                raise NotImplementedByEmulator(
                    f"The emulator does not deploy resources of type '{kind}' through a template."
                )
            if len(kind.split("/")) != len(name.split("/")) + 1:
                raise _invalid(
                    f"The template resource '{name}' of type '{kind}' has an incorrect segment "
                    "length. A nested resource type must have identical number of segments as "
                    "its resource name"
                )
            planned.append(resource)
        return planned

    @staticmethod
    def _evaluate_outputs(
        template: dict[str, Any], scope: Scope
    ) -> tuple[dict[str, dict[str, Any]], tuple[str, str] | None]:
        declared = template.get("outputs") or {}
        outputs: dict[str, dict[str, Any]] = {}
        for oname, output in declared.items():
            kind = str((output or {}).get("type") or "string").lower()
            try:
                value = evaluate((output or {}).get("value"), scope)
            except ExpressionError as exc:
                return {}, (oname, str(exc))
            entry: dict[str, Any] = {"type": _TYPES.get(kind, kind)}
            if not kind.startswith("secure"):
                entry["value"] = value
            outputs[oname] = entry
        return outputs, None

    def _start_resource(
        self,
        subscription: str,
        group: ResourceGroupState,
        resource: dict[str, Any],
        deployment: str,
    ) -> DeploymentOperationState:
        kind, name = resource["type"], resource["name"]
        namespace, *types = kind.split("/")
        names = name.split("/")
        path = "".join(f"/{t}/{n}" for t, n in zip(types, names, strict=True))
        resource_id = (
            f"/subscriptions/{subscription}/resourceGroups/{group.name}/providers/{namespace}{path}"
        )
        state = DeploymentOperationState(
            operation_id=str(uuid.uuid4().int)[:16],
            resource_id=resource_id,
            resource_type=kind,
            resource_name=name,
            timestamp=self.registry.now(),
        )
        if kind.lower() != LAB_VM_TYPE:
            state.record = DeployedResource(
                id=resource_id,
                name=names[-1],
                type=kind,
                location=resource["location"],
                tags=resource["tags"] if isinstance(resource["tags"], dict) else {},
                deployment=deployment,
            )
        else:
            self._start_lab_vm(state, subscription, group, resource)
        return state

    def _start_lab_vm(
        self,
        state: DeploymentOperationState,
        subscription: str,
        group: ResourceGroupState,
        resource: dict[str, Any],
    ) -> None:
        """Create the lab VM through DevTest Labs' own rules; its operation, or its refusal,
        decides the deployment operation's outcome."""
        names = resource["name"].split("/")
        vm_request = RequestKind("PUT", T_LAB_VM, f"{T_LAB_VM}/write", state.resource_id)
        body = {
            "location": resource["location"],
            "tags": resource["tags"],
            "properties": resource["properties"],
        }
        try:
            lab = self.devtestlabs.lab(subscription, group.name, names[0])
            vm, operation = self.devtestlabs.create_vm(lab, names[1], body, vm_request)
        except ArmError as error:
            self._end(state, "Failed", error.status, error.body())
            return
        if operation is not None:
            state.inner_operation = operation.id
        elif vm.provisioning_state == "Succeeded":
            self._end(state, "Succeeded", 200, None)
        else:
            self._end(
                state,
                "Failed",
                409,
                {
                    "error": {
                        "code": "Conflict",
                        "message": f"The virtual machine '{vm.name}' is {vm.provisioning_state}.",
                    }
                },
            )

    def _end(
        self,
        state: DeploymentOperationState,
        outcome: Literal["Succeeded", "Failed"],
        status: int,
        message: dict[str, Any] | None,
    ) -> None:
        state.provisioning_state = outcome
        state.status_code = {200: "OK", 201: "Created"}.get(status, str(status))
        state.status_message = message

    # ----- delete ----------------------------------------------------------------------
    def delete(self, group: ResourceGroupState, deployment: Deployment) -> Operation:
        if deployment.running:
            raise rx.DeploymentActive(
                f"The deployment '{deployment.name}' is still active; wait until it has "
                "finished before deleting it."
            )
        if deployment.delete_operation_id:
            existing = self.registry.world.operations.get(deployment.delete_operation_id)
            if existing is not None:
                return existing
        operation = self.registry.start_operation(
            PROVIDER, group.location, "delete", deployment.id, deployment.subscription
        )
        deployment.provisioning_state = "Deleting"
        deployment.delete_at = self.registry.now() + dt.timedelta(seconds=5)
        deployment.delete_operation_id = operation.id
        return operation

    # ----- time ------------------------------------------------------------------------
    def advance(self, now: dt.datetime) -> None:
        for sub in self.registry.world.subscriptions.values():
            for group in sub.resource_groups.values():
                for deployment in list(group.deployments.values()):
                    self._step(group, deployment, now)

    def _step(self, group: ResourceGroupState, deployment: Deployment, now: dt.datetime) -> None:
        if deployment.provisioning_state == "Deleting":
            if deployment.delete_at is not None and deployment.delete_at <= now:
                group.deployments.pop(deployment.name.lower(), None)
                done = self.registry.world.operations.get(deployment.delete_operation_id or "")
                if done is not None:
                    done.succeed(deployment.delete_at)
            return
        if not deployment.running:
            return
        for state in deployment.operations:
            if state.provisioning_state != "Running":
                continue
            if state.inner_operation is not None:
                inner = self.registry.world.operations.get(state.inner_operation)
                if inner is None or not inner.done:
                    continue
                if inner.status == "Succeeded":
                    self._end(state, "Succeeded", 200, None)
                else:
                    error = {"code": inner.error_code, "message": inner.error_message}
                    self._end(state, "Failed", 400, {"error": error})
            elif deployment.ready_at <= now:
                self._end(state, "Succeeded", 201, None)
                if state.record is not None:
                    group.resources[state.record.id.lower()] = state.record
        if any(s.provisioning_state == "Running" for s in deployment.operations):
            return
        if not deployment.operations and deployment.ready_at > now:
            return
        self._finish(deployment, now)

    def _finish(self, deployment: Deployment, at: dt.datetime) -> None:
        operation = self.registry.world.operations.get(deployment.operation_id)
        failed = [s for s in deployment.operations if s.provisioning_state == "Failed"]
        deployment.ended = at
        if failed or deployment.planned_failure is not None:
            details = [
                {
                    "code": str(((s.status_message or {}).get("error") or {}).get("code")),
                    "message": str(((s.status_message or {}).get("error") or {}).get("message")),
                }
                for s in failed
            ]
            if deployment.planned_failure is not None:
                code, message = deployment.planned_failure
                details.append({"code": code, "message": message})
            deployment.error = {
                "code": "DeploymentFailed",
                "message": FAILED_MESSAGE,
                "details": details,
            }
        elif deployment.output_error is not None:
            name, reason = deployment.output_error
            deployment.error = {
                "code": "DeploymentOutputEvaluationFailed",
                "message": f"Unable to evaluate template outputs: '{name}'. Please see error "
                "details and deployment operations. Please see https://aka.ms/arm-debug for "
                "usage details.",
                "details": [
                    {
                        "code": "DeploymentOutputEvaluationFailed",
                        "message": f"The template output '{name}' is not valid: {reason}",
                    }
                ],
            }
        if deployment.error is not None:
            deployment.provisioning_state = "Failed"
            deployment.outputs = None
            if operation is not None:
                operation.fail(at, deployment.error["code"], deployment.error["message"])
            return
        deployment.provisioning_state = "Succeeded"
        if operation is not None:
            operation.succeed(at)

    # ----- resource groups -------------------------------------------------------------
    def remove_group(self, subscription: str, name: str) -> None:
        sub = self.registry.subscription(subscription)
        sub.resource_groups.pop(name.lower(), None)


def output_resources(deployment: Deployment) -> list[str]:
    return [s.resource_id for s in deployment.operations if s.provisioning_state == "Succeeded"]
