"""DevTest Labs handlers for repositories' ARM templates and lab environments.

Shapes follow the 2018-09-15 REST spec examples (`ArmTemplates_List`, `ArmTemplates_Get`,
`Environments_CreateOrUpdate`, `Environments_Get`, `Environments_Delete`).
"""

from __future__ import annotations

from typing import Any

from emulator.devtestlabs.responses import apply_query, lab_of, page, put_child
from emulator.devtestlabs.state import Environment, LabState
from emulator.http import ArmRequest, ArmResponse
from emulator.lro import dtl_time
from emulator.scenario import ArmTemplateSpec, ArtifactSourceSpec


def template_body(
    lab: LabState, source: ArtifactSourceSpec, spec: ArmTemplateSpec
) -> dict[str, Any]:
    return {
        "id": f"{lab.id}/artifactsources/{source.name}/armtemplates/{spec.name}".lower(),
        "name": spec.name,
        "type": "Microsoft.DevTestLab/labs/artifactSources/armTemplates",
        "location": lab.location,
        "properties": {
            "displayName": spec.display_name or spec.name,
            "description": spec.description,
            "publisher": spec.publisher,
            "contents": spec.contents,
            "createdDate": dtl_time(lab.created),
            "parametersValueFilesInfo": [
                {"fileName": name, "parametersValueInfo": content}
                for name, content in spec.parameters_files.items()
            ],
            "enabled": spec.enabled,
        },
    }


def environment_body(environment: Environment) -> dict[str, Any]:
    props: dict[str, Any] = {
        "deploymentProperties": {
            "armTemplateId": environment.arm_template_id,
            "parameters": environment.parameters,
        },
        "armTemplateDisplayName": environment.arm_template_display_name,
        "resourceGroupId": (
            f"/subscriptions/{environment.subscription}/resourceGroups/{environment.resource_group}"
        ),
        "createdByUser": environment.user,
        "provisioningState": environment.provisioning_state,
        "uniqueIdentifier": environment.unique_identifier,
    }
    return {
        "id": environment.id,
        "name": environment.name,
        "type": "Microsoft.DevTestLab/labs/users/environments",
        "location": environment.location,
        "tags": dict(environment.tags),
        "properties": props,
    }


# ----- ARM templates ---------------------------------------------------------------------
def list_templates(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    source, templates = request.core.environments.templates(lab, request.params["source"])
    return page(apply_query([template_body(lab, source, t) for t in templates], request))


def get_template(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    p = request.params
    source, _ = request.core.environments.templates(lab, p["source"])
    spec = request.core.environments.template(lab, p["source"], p["name"])
    return ArmResponse(200, template_body(lab, source, spec))


# ----- environments -----------------------------------------------------------------------
def list_environments(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    request.core.environments.check_user(lab, request.params["user"], allow_all=True)
    items = [environment_body(e) for e in request.core.environments.of_lab(lab)]
    return page(apply_query(items, request))


def get_environment(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    request.core.environments.check_user(lab, request.params["user"])
    environment = request.core.environments.environment(lab, request.params["name"])
    return ArmResponse(200, environment_body(environment))


def put_environment(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    request.core.environments.check_user(lab, request.params["user"])
    body = request.json()
    return put_child(request, lab, body, request.core.environments.create, environment_body)


def delete_environment(request: ArmRequest) -> ArmResponse:
    lab = lab_of(request)
    request.core.environments.check_user(lab, request.params["user"])
    environment = request.core.environments.find(lab, request.params["name"])
    if environment is None:
        return ArmResponse(204)
    operation = request.core.environments.delete(lab, environment)
    return request.accepted(operation)
