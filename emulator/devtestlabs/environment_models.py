"""DevTest Labs environments: an ARM template of a lab repository deployed into a resource
group of its own. No HTTP here.

Creating an environment makes a resource group in the lab's subscription and region (the
emulator names it `<lab>-<environment>-<6 digits>`; no recording shows DevTest Labs' own
pattern) and deploys the template there through
`ResourcesBackend.create` (so its parameters, expressions and outputs follow the
deployment rules); the environment is `Creating` until that deployment ends, then
`Succeeded` or `Failed` with the deployment's error. Deleting removes the resource group
and everything in it after `durations.environment_delete`.

The emulator has one lab user per lab: `@me` and the user's unique identifier both name it.
DevTest Labs passes environment parameters as strings; they are converted to the types the
template declares (`int`, `bool`, `object`, `array`) before the deployment sees them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any

from emulator.devtestlabs import exceptions as dtl
from emulator.devtestlabs.models import (
    DevTestLabsBackend,
    child_identity,
    required_properties,
)
from emulator.devtestlabs.state import Environment, LabState
from emulator.exceptions import (
    ArmError,
    InvalidParameter,
    MissingRequiredProperty,
)
from emulator.faults import RequestKind
from emulator.lro import Operation
from emulator.registry import Registry, ResourceGroupState
from emulator.resources.models import ResourcesBackend
from emulator.scenario import ArmTemplateSpec, ArtifactSourceSpec

PROVIDER = "Microsoft.DevTestLab"


def lab_user(lab: LabState) -> str:
    """The unique identifier of the lab's one user."""
    return str(uuid.uuid5(uuid.UUID(lab.unique_identifier), "user"))


def _as_declared(declared: dict[str, Any], name: str, value: Any) -> Any:
    """A parameter's value as the template declares its type (DevTest Labs sends strings)."""
    declaration = next((d for k, d in declared.items() if k.lower() == name.lower()), None)
    if not isinstance(declaration, dict) or not isinstance(value, str):
        return value
    kind = str(declaration.get("type") or "").lower()
    try:
        if kind == "int":
            return int(value)
        if kind == "bool":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        if kind in ("object", "secureobject", "array"):
            return json.loads(value)
    except ValueError:
        raise InvalidParameter(
            f"The value '{value}' of parameter '{name}' is not a valid {kind}."
        ) from None
    return value


def _shown_parameter(declared: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """A parameter as the environment shows it: a secure value is used, never kept."""
    declaration = next((d for k, d in declared.items() if k.lower() == name.lower()), None)
    kind = str(declaration.get("type") or "") if isinstance(declaration, dict) else ""
    return {"name": name} if kind.lower().startswith("secure") else {"name": name, "value": value}


def _given_parameters(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameters an environment is given: a list of name/value pairs."""
    given = deployment.get("parameters") or []
    if not isinstance(given, list) or not all(isinstance(p, dict) and p.get("name") for p in given):
        raise InvalidParameter(
            "The property 'properties.deploymentProperties.parameters' must be a list of "
            "name/value pairs."
        )
    return given


class EnvironmentsBackend:
    """Environments live in the world's registry keyed by `<lab id>/<name>` (lower case)."""

    def __init__(
        self, registry: Registry, devtestlabs: DevTestLabsBackend, resources: ResourcesBackend
    ) -> None:
        self.registry = registry
        self.devtestlabs = devtestlabs
        self.resources = resources

    @staticmethod
    def _key(lab: LabState, name: str) -> str:
        return f"{lab.id}/{name}".lower()

    def find(self, lab: LabState, name: str) -> Environment | None:
        return self.registry.world.environments.get(self._key(lab, name))

    def of_lab(self, lab: LabState) -> list[Environment]:
        prefix = f"{lab.id}/".lower()
        return [e for k, e in self.registry.world.environments.items() if k.startswith(prefix)]

    # ----- repositories' templates -------------------------------------------------------
    def templates(
        self, lab: LabState, source_name: str
    ) -> tuple[ArtifactSourceSpec, list[ArmTemplateSpec]]:
        source = self.devtestlabs.artifact_source(lab, source_name)
        return source, list(source.arm_templates)

    def template(self, lab: LabState, source_name: str, name: str) -> ArmTemplateSpec:
        _, templates = self.templates(lab, source_name)
        for spec in templates:
            if spec.name.lower() == name.lower():
                return spec
        raise lab.not_found(f"artifactsources/{source_name}/armtemplates/{name}")

    def _template_by_id(self, lab: LabState, template_id: str) -> tuple[str, ArmTemplateSpec]:
        parts = template_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        if len(parts) != 12 or lowered[8] != "artifactsources" or lowered[10] != "armtemplates":
            raise InvalidParameter(
                f"The ARM template id '{template_id}' is not a lab ARM template resource id."
            )
        if lowered[7] != lab.name.lower() or lowered[1] != lab.subscription.lower():
            raise InvalidParameter(
                f"The ARM template '{template_id}' does not belong to lab '{lab.name}'."
            )
        return parts[9], self.template(lab, parts[9], parts[11])

    # ----- environments -------------------------------------------------------------------
    def check_user(self, lab: LabState, user: str, allow_all: bool = False) -> None:
        if (
            user.lower() == "@me"
            or user.lower() == lab_user(lab)
            or (allow_all and user.lower() == "@all")
        ):
            return
        raise lab.not_found(f"users/{user}")

    def environment(self, lab: LabState, name: str) -> Environment:
        found = self.find(lab, name)
        if found is None:
            raise lab.not_found(f"users/@me/environments/{name}")
        return found

    def create(
        self, lab: LabState, name: str, body: dict[str, Any], request: RequestKind
    ) -> tuple[Environment, Operation | None]:
        props = required_properties(body)
        existing = self.find(lab, name)
        if existing is not None:
            if existing.busy:
                raise dtl.OperationInProgress.on(f"environment '{name}'")
            if "tags" in body:
                existing.tags = dict(body.get("tags") or {})
            return existing, None
        deployment = props.get("deploymentProperties")
        if not isinstance(deployment, dict):
            deployment = {}
        template_id = deployment.get("armTemplateId")
        if not template_id:
            raise MissingRequiredProperty.of_body("properties.deploymentProperties.armTemplateId")
        source_name, spec = self._template_by_id(lab, str(template_id))
        given = _given_parameters(deployment)
        declared = spec.contents.get("parameters") or {}
        values = {
            str(p["name"]): _as_declared(declared, str(p["name"]), p.get("value")) for p in given
        }
        group_name = self._deploy(lab, name, spec, values, request)
        now = self.registry.now()
        identity = child_identity(lab, f"users/{lab_user(lab)}/environments", name, body)
        operation = self.registry.start_operation(
            PROVIDER, identity["location"], "create", identity["id"], lab.subscription
        )
        environment = Environment(
            **identity,
            user=lab_user(lab),
            arm_template_id=(
                f"{lab.id}/artifactsources/{source_name}/armtemplates/{spec.name}"
            ).lower(),
            arm_template_display_name=str(props.get("armTemplateDisplayName") or spec.display_name),
            parameters=[_shown_parameter(declared, str(p["name"]), p.get("value")) for p in given],
            subscription=lab.subscription,
            resource_group=group_name,
            deployment=name,
            created=now,
            unique_identifier=str(uuid.uuid4()),
            operation_id=operation.id,
        )
        self.registry.world.environments[self._key(lab, name)] = environment
        return environment, operation

    def _deploy(
        self,
        lab: LabState,
        name: str,
        spec: ArmTemplateSpec,
        values: dict[str, Any],
        request: RequestKind,
    ) -> str:
        """Deploy the template into a new resource group of the lab's; its name. A
        deployment refused at once takes its resource group with it."""
        sub = self.registry.subscription(lab.subscription)
        group_name = f"{lab.name}-{name}-{random.randint(100000, 999999)}"
        group = ResourceGroupState(
            name=group_name,
            location=lab.location,
            tags={"hidden-DevTestLabs-LabUId": lab.unique_identifier},
        )
        sub.resource_groups[group_name.lower()] = group
        body = {
            "properties": {
                "mode": "Incremental",
                "template": spec.contents,
                "parameters": {k: {"value": v} for k, v in values.items()},
            }
        }
        try:
            self.resources.create(lab.subscription, group, name, body, request)
        except ArmError:
            sub.resource_groups.pop(group_name.lower(), None)
            raise
        return group_name

    def delete(self, lab: LabState, environment: Environment) -> Operation:
        if environment.provisioning_state == "Deleting":
            existing = self.registry.world.operations.get(environment.operation_id)
            if existing is not None:
                return existing
        now = self.registry.now()
        running = self.registry.world.operations.get(environment.operation_id)
        if running is not None and not running.done:
            running.cancel(now, f"The environment '{environment.name}' is being deleted.")
        operation = self.registry.start_operation(
            PROVIDER, environment.location, "delete", environment.id, lab.subscription
        )
        environment.provisioning_state = "Deleting"
        environment.operation_id = operation.id
        environment.delete_at = now + dt.timedelta(
            seconds=self.registry.scenario.durations.environment_delete
        )
        return operation

    # ----- time ------------------------------------------------------------------------
    def advance(self, now: dt.datetime) -> None:
        for lab in self.registry.all_labs():
            for environment in self.of_lab(lab):
                self._step(lab, environment, now)

    def _step(self, lab: LabState, environment: Environment, now: dt.datetime) -> None:
        operation = self.registry.world.operations.get(environment.operation_id)
        if environment.provisioning_state == "Deleting":
            if environment.delete_at is not None and environment.delete_at <= now:
                self.resources.remove_group(environment.subscription, environment.resource_group)
                self.registry.world.environments.pop(self._key(lab, environment.name), None)
                if operation is not None:
                    operation.succeed(environment.delete_at)
            return
        if environment.provisioning_state != "Creating":
            return
        sub = self.registry.world.subscriptions.get(environment.subscription.lower())
        group = sub.resource_groups.get(environment.resource_group.lower()) if sub else None
        deployment = group.deployments.get(environment.deployment.lower()) if group else None
        if deployment is not None and deployment.running:
            return
        if deployment is None or deployment.provisioning_state != "Succeeded":
            error = (deployment.error if deployment else None) or {
                "code": "DeploymentFailed",
                "message": "The environment's deployment is gone.",
            }
            details = "; ".join(
                f"{d.get('code')}: {d.get('message')}" for d in error.get("details") or []
            )
            message = f"{error.get('message')}{' ' + details if details else ''}"
            environment.provisioning_state = "Failed"
            environment.error = {"code": error.get("code"), "message": message}
            if operation is not None:
                operation.fail(now, str(error.get("code")), message)
            return
        environment.provisioning_state = "Succeeded"
        if operation is not None:
            operation.succeed(now)
