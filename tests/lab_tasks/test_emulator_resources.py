"""The emulator's Microsoft.Resources deployments and DevTest Labs environments, through
azure-mgmt-resource and azure-mgmt-devtestlabs: what a deployment answers, and what it
refuses (the way ARM refuses a template it cannot run, never with a made-up result)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.devtestlabs.models import DtlEnvironment, EnvironmentDeploymentProperties
from azure.mgmt.resource import ResourceManagementClient

from tests.lab_tasks.conftest import ALPHA, ALPHA_LAB, ALPHA_RG, SUB1
from tests.localworld import LocalWorldClient

OUTPUTS = {
    "text": {"type": "string", "value": "[concat('a-', parameters('word'), '-', 1)]"},
    "rg": {"type": "object", "value": "[resourceGroup()]"},
    "id": {"type": "string", "value": "[resourceId('Microsoft.Web/sites', 'site1')]"},
    "same": {"type": "bool", "value": "[true()]"},
    "unique": {"type": "string", "value": "[uniqueString(resourceGroup().id, 'x')]"},
    "escaped": {"type": "string", "value": "[[not an expression]"},
    "secret": {"type": "securestring", "value": "[parameters('word')]"},
}


def _template(resources: list[dict[str, Any]] | None = None, **outputs: Any) -> dict[str, Any]:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"word": {"type": "string"}, "count": {"type": "int", "defaultValue": 2}},
        "resources": resources or [],
        "outputs": outputs or OUTPUTS,
    }


def _body(template: dict[str, Any], **parameters: Any) -> dict[str, Any]:
    return {
        "properties": {
            "mode": "Incremental",
            "template": template,
            "parameters": {k: {"value": v} for k, v in parameters.items()},
        }
    }


@pytest.fixture
def arm(emulator: LocalWorldClient) -> ResourceManagementClient:
    return ResourceManagementClient(emulator.credential, SUB1, **emulator.client_options())


def test_outputs_of_the_expression_subset(arm: ResourceManagementClient) -> None:
    done = arm.deployments.begin_create_or_update(
        ALPHA_RG, "outputs", _body(_template(), word="hello")
    ).result()
    outputs = done.properties.outputs
    assert done.properties.provisioning_state == "Succeeded"
    assert outputs["text"] == {"type": "String", "value": "a-hello-1"}
    assert outputs["rg"]["value"]["location"] == "westeurope"
    assert outputs["rg"]["value"]["name"] == ALPHA_RG
    assert outputs["id"]["value"] == (
        f"/subscriptions/{SUB1}/resourceGroups/{ALPHA_RG}/providers/Microsoft.Web/sites/site1"
    )
    assert outputs["same"] == {"type": "Bool", "value": True}
    assert len(outputs["unique"]["value"]) == 13
    assert outputs["escaped"]["value"] == "[not an expression]"
    assert outputs["secret"] == {"type": "SecureString"}
    assert done.properties.parameters["count"] == {"type": "Int", "value": 2}


@pytest.mark.parametrize(
    ("template", "parameters", "status", "code", "words"),
    [
        (_template(), {}, 400, "InvalidTemplate", "The value for the template parameter 'word'"),
        (_template(), {"word": "w", "colour": "x"}, 400, "InvalidTemplate",
         "The template parameters 'colour' in the parameters file are not valid"),
        (_template(), {"word": 3}, 400, "InvalidTemplate", "Expected 'String'"),
        (_template([{"type": "Microsoft.Web/sites", "name": "[reference('x').name]"}]),
         {"word": "w"}, 400, "InvalidTemplate", "The template function 'reference'"),
        (_template([{"type": "Microsoft.Web/sites", "name": "s", "copy": {"count": 2}}]),
         {"word": "w"}, 501, "NotImplemented", "'copy' loop"),
        (_template([{"type": "Microsoft.Resources/deployments", "name": "nested"}]),
         {"word": "w"}, 501, "NotImplemented", "nested deployments"),
    ],
)  # fmt: skip
def test_what_a_deployment_refuses(
    arm: ResourceManagementClient,
    template: dict[str, Any],
    parameters: dict[str, Any],
    status: int,
    code: str,
    words: str,
) -> None:
    with pytest.raises(HttpResponseError) as caught:
        arm.deployments.begin_create_or_update(ALPHA_RG, "refused", _body(template, **parameters))
    assert caught.value.status_code == status
    assert caught.value.error is not None and caught.value.error.code == code
    assert words in str(caught.value.error.message)
    assert list(arm.deployments.list_by_resource_group(ALPHA_RG)) == []


def test_an_output_it_cannot_evaluate_fails_the_deployment(arm: ResourceManagementClient) -> None:
    template = _template(bad={"type": "string", "value": "[listKeys('x', '2020-01-01').key1]"})
    poller = arm.deployments.begin_create_or_update(ALPHA_RG, "bad-out", _body(template, word="w"))
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert caught.value.error is not None
    assert caught.value.error.code == "DeploymentOutputEvaluationFailed"
    failed = arm.deployments.get(ALPHA_RG, "bad-out")
    assert failed.properties.provisioning_state == "Failed"
    assert failed.properties.outputs is None


def test_polling_operations_and_delete(
    emulator: LocalWorldClient, arm: ResourceManagementClient
) -> None:
    site = {
        "type": "Microsoft.Web/sites",
        "apiVersion": "2015-02-01",
        "name": "[concat('site-', parameters('word'))]",
        "location": "[resourceGroup().location]",
        "properties": {},
    }
    url = (
        f"{emulator.endpoint}/subscriptions/{SUB1}/resourcegroups/{ALPHA_RG}/providers/"
        "Microsoft.Resources/deployments/raw?api-version=2024-03-01"
    )
    token = emulator.credential.token_for("https://management.azure.com/.default")
    headers = {"Authorization": f"Bearer {token}"}
    put = requests.put(
        url, json=_body(_template([site]), word="w"), headers=headers, verify=emulator.ca_file
    )
    assert put.status_code == 201
    assert put.json()["properties"]["provisioningState"] == "Accepted"
    assert "/deployments/raw/operationStatuses/" in put.headers["Azure-AsyncOperation"]
    poller = arm.deployments.begin_create_or_update(
        ALPHA_RG, "ops", _body(_template([site]), word="w")
    )
    assert poller.result().properties.output_resources[0].id.endswith("/sites/site-w")
    operations = list(arm.deployment_operations.list(ALPHA_RG, "ops"))
    assert [o.properties.target_resource.resource_name for o in operations] == ["site-w"]
    assert operations[0].properties.provisioning_state == "Succeeded"
    arm.deployments.begin_delete(ALPHA_RG, "ops").result()
    with pytest.raises(ResourceNotFoundError):
        arm.deployments.get(ALPHA_RG, "ops")
    arm.deployments.begin_delete(ALPHA_RG, "ops").result()  # 204: nothing to delete


def test_environment_of_a_template_that_is_not_there(emulator: LocalWorldClient) -> None:
    dtl = emulator.devtestlabs(SUB1)
    environment = DtlEnvironment(
        deployment_properties=EnvironmentDeploymentProperties(
            arm_template_id=f"{ALPHA}/artifactSources/public repo/armTemplates/Nope"
        )
    )
    with pytest.raises(ResourceNotFoundError):
        dtl.environments.begin_create_or_update(ALPHA_RG, ALPHA_LAB, "@me", "e1", environment)
    templates = {t.name for t in dtl.arm_templates.list(ALPHA_RG, ALPHA_LAB, "public repo")}
    assert templates == {"WebApp", "WebAppOutputs"}
    found = dtl.arm_templates.get(ALPHA_RG, ALPHA_LAB, "public repo", "WebAppOutputs")
    assert found.parameters_value_files_info is not None
    assert found.parameters_value_files_info[0].file_name == "azuredeploy.parameters.json"
    assert list(dtl.environments.list(ALPHA_RG, ALPHA_LAB, "@all")) == []


def test_an_injected_deployment_failure(
    emulator: LocalWorldClient, arm: ResourceManagementClient
) -> None:
    emulator.admin(
        "POST",
        "faults",
        {"kind": "fail_operation", "resource_type": "Microsoft.Resources/deployments",
         "code": "ResourceQuotaExceeded", "message": "The quota is used up.", "count": 1},
    )  # fmt: skip
    poller = arm.deployments.begin_create_or_update(
        ALPHA_RG, "faulty", _body(_template(), word="w")
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert caught.value.error is not None and caught.value.error.code == "DeploymentFailed"
    failed = arm.deployments.get(ALPHA_RG, "faulty")
    assert failed.properties.error is not None
    assert failed.properties.error.details[0].code == "ResourceQuotaExceeded"


def test_secure_values_are_used_not_kept(
    emulator: LocalWorldClient, arm: ResourceManagementClient
) -> None:
    sql = {
        "type": "Microsoft.Sql/servers",
        "name": "sql1",
        "location": "westeurope",
        "properties": {"administratorLoginPassword": "[parameters('secret')]"},
    }
    template = _template([sql], echo={"type": "string", "value": "[parameters('word')]"})
    template["parameters"]["secret"] = {"type": "securestring"}
    done = arm.deployments.begin_create_or_update(
        ALPHA_RG, "secure", _body(template, word="w", secret="Hunter2-Secret")
    ).result()
    assert done.properties.parameters["secret"] == {"type": "SecureString"}
    assert "Hunter2-Secret" not in str(emulator.admin("GET", "state"))
