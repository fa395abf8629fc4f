"""The deployment templates, checked offline: ARM structure, every reference defined, the app
settings the code reads, each role assignment with its role and scope, no keys, no secrets.

Expectations are derived from the code where they can be (shared.settings, the triggers'
bindings, the SDK calls in shared/azure/), so the template cannot drift from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import SecretStr

import triggers.retirement_worker
import triggers.schedule
from shared.settings import Settings, setting_names

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TEMPLATES = ["main.json", "lab-access.json"]
ARM_SCHEMAS = {
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
}

# Settings the code reads that only the local world sets (the emulator's CA, a faster
# clock). A deployment leaves them out; everything else in setting_names() must be set.
LOCAL_ONLY = {"IMAGEFACTORY_CA_BUNDLE", "IMAGEFACTORY_TIME_SCALE"}
# Settings the Functions host and the SDKs read, beyond shared.settings.
HOST_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__queueServiceUri",  # shared.azure.clients.queue() with an identity
    "AZURE_CLIENT_ID",  # DefaultAzureCredential picks the user-assigned identity
    "APPLICATIONINSIGHTS_CONNECTION_STRING",  # shared.telemetry.configure_telemetry()
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
}
# App settings Flex Consumption rejects or ignores (runtime is functionAppConfig), and the
# connection-string form of the host storage (an account key).
NOT_ON_FLEX = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "AzureWebJobsStorage",
}

# Built-in roles
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402"
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c4a72b9d": "User Access Administrator",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "76283e04-6283-4c54-8f91-bcf1374a3c64": "DevTest Labs User",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
}
STORAGE_DATA_ROLES = {BLOB_DATA_OWNER, BLOB_DATA_CONTRIBUTOR, QUEUE_DATA_CONTRIBUTOR}
STORAGE_DATA_ROLES |= {TABLE_DATA_CONTRIBUTOR}

# Every Azure SDK operation shared/azure/ calls -> the RBAC action it needs.
OPERATION_ACTIONS = {
    "labs.get": "Microsoft.DevTestLab/labs/read",
    "labs.generate_upload_uri": "Microsoft.DevTestLab/labs/GenerateUploadUri/action",
    "virtual_networks.list": "Microsoft.DevTestLab/labs/virtualNetworks/read",
    "custom_images.list": "Microsoft.DevTestLab/labs/customImages/read",
    "custom_images.get": "Microsoft.DevTestLab/labs/customImages/read",
    "custom_images.begin_create_or_update": "Microsoft.DevTestLab/labs/customImages/write",
    "custom_images.begin_delete": "Microsoft.DevTestLab/labs/customImages/delete",
    "virtual_machines.list": "Microsoft.DevTestLab/labs/virtualMachines/read",
    "virtual_machines.get": "Microsoft.DevTestLab/labs/virtualMachines/read",
    "virtual_machines.begin_create_or_update": "Microsoft.DevTestLab/labs/virtualMachines/write",
    "virtual_machines.begin_delete": "Microsoft.DevTestLab/labs/virtualMachines/delete",
    "virtual_machines.begin_stop": "Microsoft.DevTestLab/labs/virtualMachines/stop/action",
    "disks.begin_grant_access": "Microsoft.Compute/disks/beginGetAccess/action",
    "disks.begin_revoke_access": "Microsoft.Compute/disks/endGetAccess/action",
    "virtual_machine_images.list": (
        "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read"
    ),
    "artifact_sources.list": "Microsoft.DevTestLab/labs/artifactSources/read",
    "artifacts.list": "Microsoft.DevTestLab/labs/artifactSources/artifacts/read",
    "gallery_images.list": "Microsoft.DevTestLab/labs/galleryImages/read",
    "policies.list": "Microsoft.DevTestLab/labs/policySets/policies/read",
    "usage.list": "Microsoft.Compute/locations/usages/read",
    "resource_skus.list": "Microsoft.Compute/skus/read",
}
# What a target lab needs: inventory, upload URI, custom images in and out. No VM writes.
TARGET_ONLY = {
    "labs.get",
    "labs.generate_upload_uri",
    "custom_images.list",
    "custom_images.get",
    "custom_images.begin_create_or_update",
    "custom_images.begin_delete",
    "virtual_machines.list",
    "virtual_machines.get",
}

PARAMETER_REF = re.compile(r"parameters\('([^']+)'\)")
VARIABLE_REF = re.compile(r"variables\('([^']+)'\)")

RESOURCE_SCHEMA = {
    "type": "object",
    "required": ["type", "apiVersion", "name"],
    "properties": {
        "type": {"type": "string", "pattern": r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+$"},
        "apiVersion": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(-preview)?$"},
        "name": {"type": "string", "minLength": 1},
        "condition": {"type": ["string", "boolean"]},
        "dependsOn": {"type": "array", "items": {"type": "string"}},
    },
}
TEMPLATE_SCHEMA = {
    "type": "object",
    "required": ["$schema", "contentVersion", "parameters", "variables", "resources", "outputs"],
    "properties": {
        "$schema": {"enum": sorted(ARM_SCHEMAS)},
        "contentVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+$"},
        "parameters": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"enum": ["string", "int", "bool", "object", "array"]},
                    "metadata": {"type": "object", "required": ["description"]},
                },
            },
        },
        "variables": {"type": "object"},
        "resources": {"type": "array", "items": RESOURCE_SCHEMA},
        "outputs": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["type", "value"],
                "properties": {"type": {"enum": ["string", "int", "bool", "object", "array"]}},
            },
        },
    },
}


def load(name: str) -> dict[str, Any]:
    return json.loads((INFRA / name).read_text(encoding="utf-8"))


def is_nested(resource: dict[str, Any]) -> bool:
    return resource.get("type") == "Microsoft.Resources/deployments"


def nested(template: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(deployment resource, its inner template) for each nested deployment."""
    for resource in template["resources"]:
        if is_nested(resource):
            yield resource, resource["properties"]["template"]


def all_templates(template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield template
    for _, inner in nested(template):
        yield from all_templates(inner)


def own_part(template: dict[str, Any]) -> dict[str, Any]:
    """The template without the bodies of its inner-scope nested templates."""
    resources = []
    for resource in template["resources"]:
        if is_nested(resource):
            assert resource["properties"]["expressionEvaluationOptions"] == {"scope": "inner"}
            properties = {k: v for k, v in resource["properties"].items() if k != "template"}
            resource = {**resource, "properties": properties}
        resources.append(resource)
    return {**template, "resources": resources}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def resources_of(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for t in all_templates(template) for r in t["resources"] if r["type"] == kind]


def site(main: dict[str, Any]) -> dict[str, Any]:
    (found,) = resources_of(main, "Microsoft.Web/sites")
    return found


def app_settings(main: dict[str, Any]) -> dict[str, str]:
    entries = site(main)["properties"]["siteConfig"]["appSettings"]
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "an app setting is set twice"
    return {e["name"]: e["value"] for e in entries}


def role_id(assignment: dict[str, Any]) -> str:
    return assignment["properties"]["roleDefinitionId"]


# --- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_arm_structure(name: str) -> None:
    for template in all_templates(load(name)):
        jsonschema.validate(template, TEMPLATE_SCHEMA)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_reference_is_defined_and_every_parameter_used(name: str) -> None:
    for template in all_templates(load(name)):
        text = "\n".join(strings(own_part(template)))
        parameters = set(PARAMETER_REF.findall(text))
        variables = set(VARIABLE_REF.findall(text))
        assert parameters <= set(template["parameters"]), parameters - set(template["parameters"])
        assert variables <= set(template["variables"]), variables - set(template["variables"])
        assert set(template["parameters"]) <= parameters, "unused parameters"
        assert set(template["variables"]) <= variables, "unused variables"


@pytest.mark.parametrize("name", TEMPLATES)
def test_nested_deployments_pass_what_their_template_declares(name: str) -> None:
    for template in all_templates(load(name)):
        for deployment, inner in nested(template):
            passed = set(deployment["properties"].get("parameters", {}))
            declared = inner["parameters"]
            required = {p for p, spec in declared.items() if "defaultValue" not in spec}
            assert passed <= set(declared), passed - set(declared)
            assert required <= passed, required - passed


@pytest.mark.parametrize("name", TEMPLATES)
def test_expressions_are_balanced(name: str) -> None:
    for text in strings(load(name)):
        if not text.startswith("["):
            continue
        assert text.endswith("]"), text
        depth = 0
        in_quote = False
        for char in text[1:-1]:
            if char == "'":
                in_quote = not in_quote
            elif not in_quote:
                depth += {"(": 1, ")": -1}.get(char, 0)
                assert depth >= 0, text
        assert depth == 0 and not in_quote, text


def test_main_embeds_lab_access_unchanged() -> None:
    """One template grants lab access: main.json inlines lab-access.json as it is."""
    lab_access = load("lab-access.json")
    deployments = [d for d, inner in nested(load("main.json")) if inner == lab_access]
    accesses = sorted(d["properties"]["parameters"]["access"]["value"] for d in deployments)
    assert accesses == ["factory", "target"]
    (targets,) = [d for d in deployments if "copy" in d]
    assert targets["copy"]["count"] == "[length(parameters('targetLabIds'))]"


def test_example_parameters_are_parameters_of_main() -> None:
    example = load("main.parameters.example.json")["parameters"]
    declared = load("main.json")["parameters"]
    assert set(example) <= set(declared)
    required = {p for p, spec in declared.items() if "defaultValue" not in spec}
    assert required <= set(example)


# --- app settings ---------------------------------------------------------------------------


def test_every_setting_the_code_reads_is_set() -> None:
    settings = app_settings(load("main.json"))
    assert set(LOCAL_ONLY) <= set(setting_names()), "the local-only list names a stale setting"
    expected = (set(setting_names()) - LOCAL_ONLY) | HOST_SETTINGS
    assert expected <= set(settings), sorted(expected - set(settings))
    assert not LOCAL_ONLY & set(settings)
    assert settings["IMAGEFACTORY_CREDENTIAL"] == "default"
    assert not NOT_ON_FLEX & set(settings)


def test_configuration_settings_come_from_parameters() -> None:
    main = load("main.json")
    settings = app_settings(main)
    for setting, parameter in {
        "IMAGEFACTORY_CONFIG_SOURCE": "configSource",
        "IMAGEFACTORY_CONFIG_LOCATION": "configLocation",
        "IMAGEFACTORY_CONFIG_PATH": "configPath",
        "IMAGEFACTORY_CONFIG_BRANCH": "configBranch",
        "IMAGEFACTORY_SCHEDULE": "schedule",
    }.items():
        assert settings[setting] == f"[parameters('{parameter}')]"
    defaults = Settings()
    assert main["parameters"]["schedule"]["defaultValue"] == defaults.schedule
    assert main["parameters"]["configBranch"]["defaultValue"] == defaults.config_branch
    assert main["parameters"]["configSource"]["allowedValues"] == ["git", "directory"]


def test_secrets_are_key_vault_references_through_the_identity() -> None:
    main = load("main.json")
    settings = app_settings(main)
    secret = {
        "IMAGEFACTORY_" + name.upper()
        for name, field in Settings.model_fields.items()
        if field.annotation == SecretStr | None or "(secret)" in (field.description or "")
    }
    assert "IMAGEFACTORY_GIT_TOKEN" in secret and "IMAGEFACTORY_GITHUB_SECRET" in secret
    for name in secret:
        value = settings[name]
        secret_name = name.lower().replace("_", "-")
        assert f"contains(parameters('keyVaultSecrets'), '{name}')" in value
        assert "@Microsoft.KeyVault(SecretUri={0}secrets/{1}/)" in value
        assert f"variables('keyVaultUri'), '{secret_name}')" in value
        assert value.endswith(", '')]"), "a secret that is not in the vault stays unset"
    assert sorted(main["parameters"]["keyVaultSecrets"]["allowedValues"]) == sorted(secret)
    properties = site(main)["properties"]
    assert properties["keyVaultReferenceIdentity"] == "[variables('identityId')]"
    (vault,) = resources_of(main, "Microsoft.KeyVault/vaults")
    assert vault["properties"]["enableRbacAuthorization"] is True


def test_host_storage_and_queues_through_the_identity() -> None:
    main = load("main.json")
    settings = app_settings(main)
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__accountName"] == "[variables('storageName')]"
    client_id = "[reference(variables('identityId'), '2024-11-30').clientId]"
    assert settings["AzureWebJobsStorage__clientId"] == client_id
    assert settings["AZURE_CLIENT_ID"] == client_id
    # The retirement queue trigger and the enqueueing activity use this connection.
    (binding,) = triggers.retirement_worker.retirement_worker._function.get_raw_bindings()
    connection = json.loads(binding)["connection"]
    assert settings["IMAGEFACTORY_QUEUE_CONNECTION"] == connection == "AzureWebJobsStorage"
    for account in resources_of(main, "Microsoft.Storage/storageAccounts"):
        assert account["properties"]["allowSharedKeyAccess"] is False
        assert account["properties"]["allowBlobPublicAccess"] is False
    identity = site(main)["identity"]
    assert identity == {
        "type": "UserAssigned",
        "userAssignedIdentities": {"[variables('identityId')]": {}},
    }
    storage = site(main)["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "[variables('identityId')]",
    }


def test_the_timer_reads_the_schedule_setting() -> None:
    bindings = [
        json.loads(b) for b in triggers.schedule.scheduled_factory_run._function.get_raw_bindings()
    ]
    (timer,) = [b for b in bindings if b["type"] == "timerTrigger"]
    assert timer["schedule"] == "%IMAGEFACTORY_SCHEDULE%"
    assert "IMAGEFACTORY_SCHEDULE" in app_settings(load("main.json"))


def test_flex_consumption_python_311() -> None:
    main = load("main.json")
    (plan,) = resources_of(main, "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    config = site(main)["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert site(main)["properties"]["httpsOnly"] is True


def test_durable_storage_azure_storage_by_default_scheduler_as_option() -> None:
    main = load("main.json")
    backend = main["parameters"]["durableBackend"]
    assert backend["defaultValue"] == "azureStorage"
    assert backend["allowedValues"] == ["azureStorage", "durableTaskScheduler"]
    settings = app_settings(main)
    provider = settings["AzureFunctionsJobHost__extensions__durableTask__storageProvider__type"]
    assert provider == "[if(variables('useScheduler'), 'azureManaged', 'AzureStorage')]"
    assert "Authentication=ManagedIdentity" in settings["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]
    hub = json.loads((ROOT / "host.json").read_text())["extensions"]["durableTask"]["hubName"]
    assert main["variables"]["taskHubName"] == hub
    for kind in ("Microsoft.DurableTask/schedulers", "Microsoft.DurableTask/schedulers/taskHubs"):
        (resource,) = resources_of(main, kind)
        assert resource["condition"] == "[variables('useScheduler')]"


def test_application_insights_is_workspace_based_without_local_auth() -> None:
    main = load("main.json")
    (insights,) = resources_of(main, "Microsoft.Insights/components")
    assert "WorkspaceResourceId" in insights["properties"]
    assert insights["properties"]["DisableLocalAuth"] is True
    settings = app_settings(main)
    assert "Authorization=AAD" in settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]


# --- role assignments -----------------------------------------------------------------------


def test_main_role_assignments() -> None:
    main = load("main.json")
    found = {
        (role_id(a).split("'")[-2], a["scope"], a.get("condition", ""))
        for a in main["resources"]
        if a["type"] == "Microsoft.Authorization/roleAssignments"
    }
    storage = "[format('Microsoft.Storage/storageAccounts/{0}', variables('storageName'))]"
    catalog = "[format('Microsoft.Storage/storageAccounts/{0}', variables('catalogName'))]"
    vault = "[format('Microsoft.KeyVault/vaults/{0}', variables('keyVaultName'))]"
    insights = "[format('Microsoft.Insights/components/{0}', variables('appInsightsName'))]"
    hub = (
        "[format('Microsoft.DurableTask/schedulers/{0}/taskHubs/{1}', "
        "variables('schedulerName'), variables('taskHubName'))]"
    )
    assert found == {
        (BLOB_DATA_OWNER, storage, ""),
        (QUEUE_DATA_CONTRIBUTOR, storage, ""),
        (TABLE_DATA_CONTRIBUTOR, storage, ""),
        (BLOB_DATA_CONTRIBUTOR, catalog, "[variables('useCatalogAccount')]"),
        (KEY_VAULT_SECRETS_USER, vault, ""),
        (KEY_VAULT_SECRETS_OFFICER, vault, "[not(empty(parameters('secretsOfficerPrincipalId')))]"),
        (MONITORING_METRICS_PUBLISHER, insights, ""),
        (DURABLE_TASK_DATA_CONTRIBUTOR, hub, "[variables('useScheduler')]"),
    }


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_broad_role_and_storage_roles_only_on_storage(name: str) -> None:
    for assignment in resources_of(load(name), "Microsoft.Authorization/roleAssignments"):
        role = role_id(assignment)
        assert not any(broad in role for broad in BROAD_ROLES), role
        if any(data in role for data in STORAGE_DATA_ROLES):
            assert assignment["scope"].startswith("[format('Microsoft.Storage/storageAccounts/")
        assert assignment["properties"]["principalId"]


def _custom_roles(template: dict[str, Any]) -> list[dict[str, Any]]:
    return resources_of(template, "Microsoft.Authorization/roleDefinitions")


def test_custom_roles_are_exact_and_assignable_only_where_deployed() -> None:
    lab_access = load("lab-access.json")
    roles = _custom_roles(lab_access)
    assert len(roles) == 3
    for role in roles:
        (permissions,) = role["properties"]["permissions"]
        assert permissions["notActions"] == []
        assert role["properties"]["assignableScopes"] in (
            ["[resourceGroup().id]"],
            ["[subscription().id]"],
        )
    for template in all_templates(lab_access):
        for actions in (v for k, v in template["variables"].items() if k.endswith("Actions")):
            assert all("*" not in action for action in actions), actions


def _factory_sdk_operations() -> set[str]:
    source = "".join(
        path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "shared" / "azure").glob("*.py"))
    )
    # Every operation-group call on an SDK client, whatever the client's variable is called.
    return {
        f"{group}.{method}"
        for group, method in re.findall(r"\b(?:client|compute)\.([a-z_]+)\.([a-z_]+)\(", source)
    }


def test_every_azure_call_of_the_factory_has_its_action() -> None:
    operations = _factory_sdk_operations()
    assert operations, "no SDK call found in shared/azure/"
    unknown = operations - set(OPERATION_ACTIONS)
    assert not unknown, f"new SDK calls: add their RBAC action here and to the roles: {unknown}"
    variables: dict[str, Any] = {}
    for template in all_templates(load("lab-access.json")):
        variables.update(template["variables"])
    factory = set(
        variables["factoryLabActions"] + variables["diskActions"] + variables["imageReaderActions"]
    )
    for operation in operations:
        assert OPERATION_ACTIONS[operation] in factory, operation
    target = set(variables["targetLabActions"])
    assert {OPERATION_ACTIONS[o] for o in TARGET_ONLY} == target
    assert not {a for a in target if "virtualMachines/write" in a or "delete" in a.lower()} - {
        "Microsoft.DevTestLab/labs/customImages/delete"
    }


def test_lab_access_scopes() -> None:
    lab_access = load("lab-access.json")
    (lab_assignment,) = [
        r for r in lab_access["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"
    ]
    assert (
        lab_assignment["scope"]
        == "[format('Microsoft.DevTestLab/labs/{0}', parameters('labName'))]"
    )
    (role,) = [r for r in lab_access["resources"] if r["type"].endswith("roleDefinitions")]
    actions = role["properties"]["permissions"][0]["actions"]
    assert actions == (
        "[if(variables('isFactory'), variables('factoryLabActions'), "
        "variables('targetLabActions'))]"
    )
    deployments = {d["name"]: (d, inner) for d, inner in nested(lab_access)}
    (disks,) = [v for k, v in deployments.items() if "disks" in k]
    (images,) = [v for k, v in deployments.items() if "images" in k]
    # Disk read SAS: only on the resource group where the factory lab creates its VMs.
    assert disks[0]["condition"] == "[variables('isFactory')]"
    assert disks[0]["resourceGroup"] == "[variables('vmResourceGroup')]"
    (disk_assignment,) = [
        r for r in disks[1]["resources"] if r["type"] == "Microsoft.Authorization/roleAssignments"
    ]
    assert "scope" not in disk_assignment  # the deployment's resource group
    # Image versions: a subscription-level read only the listing needs.
    assert images[0]["condition"] == "[variables('isFactory')]"
    assert images[1]["$schema"].endswith("subscriptionDeploymentTemplate.json#")
    assert "resourceGroup" not in images[0]


# --- no keys, no secrets --------------------------------------------------------------------

FORBIDDEN = ("listkeys", "accountkey", "sharedaccesskey", "listconnectionstrings", "listsecrets")


def _deployment_files() -> list[Path]:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    return sorted(INFRA.glob("*.json")) + workflows


@pytest.mark.parametrize("path", _deployment_files(), ids=lambda p: p.name)
def test_no_account_keys_anywhere(path: Path) -> None:
    text = path.read_text(encoding="utf-8").lower()
    for word in FORBIDDEN:
        assert word not in text, f"{path.name} mentions {word}"


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_secret_in_outputs_or_parameters(name: str) -> None:
    suspicious = ("connectionstring", "instrumentationkey", "keyvault(", "secrets/", "password")
    for template in all_templates(load(name)):
        for output in template["outputs"].values():
            assert output["type"] in ("string", "int", "bool", "array", "object")
            value = json.dumps(output["value"]).lower()
            assert not any(word in value for word in suspicious), value
        for spec in template["parameters"].values():
            assert spec["type"] not in ("securestring", "secureObject"), "secrets stay in Key Vault"
