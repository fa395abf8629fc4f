"""`lab env create|update|delete` (the extension's Create, Update and Delete Environment).

An environment is made from an ARM template of one of the lab's repositories; DevTest Labs
deploys it into a resource group of its own. Its outputs are read from that deployment and
set as variables, as the extension's "Create output variables" does (secure outputs are
marked secret). Update deploys another template file into the environment's resource
group and sets that deployment's outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.mgmt.devtestlabs.models import (
    ArmTemplateParameterProperties,
    DtlEnvironment,
    EnvironmentDeploymentProperties,
)

from shared.lab_tasks.clients import LabRef, poll_seconds
from shared.lab_tasks.common import (
    Context,
    Result,
    call,
    check_lab,
    delete_found,
    deployment_name,
    find,
    name_of,
    start_deployment,
)
from shared.lab_tasks.errors import LabTaskFailed, LabUsageError
from shared.lab_tasks.templates import (
    Template,
    as_text,
    parse_extension_overrides,
    parse_overrides,
    read_parameters,
    read_template,
    resolve,
    template_from,
)
from shared.lab_tasks.waiting import wait

ME = "@me"


@dataclass(frozen=True)
class EnvTask:
    lab: str
    name: str
    template: str
    repository: str | None = None
    parameters: str | None = None
    overrides: tuple[str, ...] = ()
    parameter_overrides: str | None = None
    export_template: str | None = None


def _values(task: EnvTask, template: Template) -> dict[str, Any]:
    overrides = {
        **parse_extension_overrides(task.parameter_overrides),
        **parse_overrides(list(task.overrides)),
    }
    return resolve(template, read_parameters(task.parameters), overrides)


def _repository_template(lab: LabRef, repository: str, name: str) -> Any:
    source = find(
        f"Reading repository {repository}",
        lambda: lab.dtl.artifact_sources.get(lab.group, lab.name, repository),
    )
    if source is None:
        known = [str(s.name) for s in lab.dtl.artifact_sources.list(lab.group, lab.name)]
        raise LabTaskFailed(
            f"The lab {lab.name} has no repository '{repository}' (it has: "
            f"{', '.join(known) or 'none'}).",
            "ResourceNotFound",
        )
    found = find(
        f"Reading template {name}",
        lambda: lab.dtl.arm_templates.get(lab.group, lab.name, repository, name),
    )
    if found is None:
        known = [str(t.name) for t in lab.dtl.arm_templates.list(lab.group, lab.name, repository)]
        raise LabTaskFailed(
            f"The repository '{repository}' of lab {lab.name} has no template '{name}' (it has: "
            f"{', '.join(known) or 'none'}).",
            "ResourceNotFound",
        )
    return found


def _group_name(group_id: str) -> str:
    return group_id.rstrip("/").rsplit("/", 1)[-1]


def _outputs(template: Template, outputs: Any) -> Result:
    """The deployment's outputs the template declares; secure ones are secret."""
    result = Result()
    declared = {k.lower(): k for k in template.outputs}
    secure = {k.lower() for k in template.secure_outputs()}
    for name, output in (outputs or {}).items():
        if name.lower() not in declared:
            continue
        value = output.get("value") if isinstance(output, dict) else output
        result.outputs[name] = value
        if name.lower() in secure or "secure" in str((output or {}).get("type", "")).lower():
            result.secret.add(name)
    return result


def _environment_outputs(lab: LabRef, group: str, template: Template) -> Result:
    deployments = list(
        call(
            f"Listing the deployments of {group}",
            lambda: lab.arm.deployments.list_by_resource_group(group),
        )
    )
    if not deployments:
        return Result()
    first = deployments[0]
    deployment = call(
        f"Reading deployment {first.name}",
        lambda: lab.arm.deployments.get(group, first.name),
    )
    return _outputs(template, getattr(deployment.properties, "outputs", None))


def create_env(task: EnvTask, ctx: Context) -> Result:
    lab = LabRef.parse(task.lab)
    if not task.repository:
        raise LabUsageError("--repository is required")
    repository = name_of(task.repository, "artifactsources")
    template_name = name_of(task.template, "armtemplates")
    check_lab(lab)
    found = _repository_template(lab, repository, template_name)
    template = template_from(
        f"template {template_name} of repository {repository}", found.contents or {}
    )
    values = _values(task, template)
    environment = DtlEnvironment(
        deployment_properties=EnvironmentDeploymentProperties(
            arm_template_id=found.id,
            parameters=[
                ArmTemplateParameterProperties(name=k, value=as_text(v)) for k, v in values.items()
            ],
        ),
        arm_template_display_name=found.display_name,
    )
    ctx.say(f"Creating environment {task.name} in lab {lab.name} from {template.source}.")
    poller = call(
        f"Starting environment {task.name}",
        lambda: lab.dtl.environments.begin_create_or_update(
            lab.group, lab.name, ME, task.name, environment, polling_interval=poll_seconds()
        ),
    )
    created = wait(poller, f"Creating environment {task.name}", ctx.deadline, ctx.err)
    group_id = str(created.resource_group_id or "")
    if not group_id:
        raise LabTaskFailed(f"The environment {task.name} reports no resource group.")
    result = _environment_outputs(lab, _group_name(group_id), template)
    result.outputs = {
        "environmentResourceId": created.id,
        "environmentResourceGroupId": group_id,
        **result.outputs,
    }
    if task.export_template:
        folder = Path(task.export_template)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "azuredeploy.json").write_text(
            json.dumps(template.body, indent=2) + "\n", encoding="utf-8"
        )
        parameters = {
            "$schema": "https://schema.management.azure.com/schemas/2015-01-01/"
            "deploymentParameters.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {
                k: {"value": v}
                for k, v in values.items()
                if not template.kind(k).startswith("secure")
            },
        }
        (folder / "azuredeploy.parameters.json").write_text(
            json.dumps(parameters, indent=2) + "\n", encoding="utf-8"
        )
        ctx.say(f"Exported the environment's template to {folder}.")
    ctx.say(f"Created environment {task.name} in lab {lab.name}.")
    return result


def _environment(lab: LabRef, name: str) -> Any:
    name = name_of(name, "environments")
    for environment in call(
        f"Listing the environments of lab {lab.name}",
        lambda: lab.dtl.environments.list(lab.group, lab.name, "@all"),
    ):
        if (environment.name or "").lower() == name.lower():
            return environment
    return None


def update_env(task: EnvTask, ctx: Context) -> Result:
    lab = LabRef.parse(task.lab)
    template = read_template(task.template)
    values = _values(task, template)
    check_lab(lab)
    environment = _environment(lab, task.name)
    if environment is None:
        raise LabTaskFailed(
            f"The lab {lab.name} has no environment {task.name}.", "ResourceNotFound"
        )
    if not environment.resource_group_id:
        raise LabTaskFailed(f"The environment {task.name} reports no resource group.")
    group = _group_name(environment.resource_group_id)
    deployment = deployment_name()
    ctx.say(f"Deploying {template.source} as {deployment} into {group} (environment {task.name}).")
    poller = start_deployment(lab, group, deployment, template.body, values)
    done = wait(poller, f"Updating environment {task.name}", ctx.deadline, ctx.err)
    result = _outputs(template, getattr(done.properties, "outputs", None))
    result.outputs = {
        "environmentResourceId": environment.id,
        "environmentResourceGroupId": environment.resource_group_id,
        **result.outputs,
    }
    ctx.say(f"Updated environment {task.name} in lab {lab.name}.")
    return result


def delete_env(lab_id: str, name: str, ctx: Context) -> Result:
    lab = LabRef.parse(lab_id)
    name = name_of(name, "environments")
    check_lab(lab)
    key = (lab.group, lab.name, ME, name)
    found = delete_found(f"environment {name}", lab.dtl.environments, key, ctx)
    if found is None:
        ctx.say(f"The environment {name} is already gone from lab {lab.name}; nothing to delete.")
        return Result({"environmentName": name, "deleted": False})
    ctx.say(f"Deleted environment {name} from lab {lab.name}.")
    return Result({"environmentResourceId": found.id, "deleted": True})
