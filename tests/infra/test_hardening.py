"""The templates' hardening: current apiVersions, every checkov check left open justified
in the resource's metadata, the settings checkov asks for that apply to Flex Consumption,
and the factory lab's storage role for the catalog."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.test_template import (
    BLOB_DATA_CONTRIBUTOR,
    TEMPLATES,
    all_templates,
    load,
    nested,
    resources_of,
    role_id,
    site,
)

# The newest stable version of each resource type, from the stable folders of
# Azure/azure-rest-api-specs (specification/<service>/resource-manager/<namespace>/stable/).
# Application Insights components have had no stable version since 2020-02-02, and
# role assignments and definitions none since 2022-04-01.
CURRENT = {
    "Microsoft.ManagedIdentity/userAssignedIdentities": "2024-11-30",
    "Microsoft.Storage/storageAccounts": "2025-08-01",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "2025-08-01",
    "Microsoft.OperationalInsights/workspaces": "2025-07-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.KeyVault/vaults": "2025-05-01",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Authorization/roleDefinitions": "2022-04-01",
    "Microsoft.DurableTask/schedulers": "2025-11-01",
    "Microsoft.DurableTask/schedulers/taskHubs": "2025-11-01",
    "Microsoft.Web/serverfarms": "2025-05-01",
    "Microsoft.Web/sites": "2025-05-01",
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2025-05-01",
    "Microsoft.Resources/deployments": "2025-04-01",
    "Microsoft.DevTestLab/labs": "2018-09-15",  # only read, by reference()
}
REFERENCE = re.compile(r"reference\((?:[^()]|\([^()]*\))*?,\s*'(\d{4}-\d{2}-\d{2})'\)")


def _resources(name: str) -> list[dict[str, Any]]:
    return [r for t in all_templates(load(name)) for r in t["resources"]]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_resource_uses_the_newest_stable_api_version(name: str) -> None:
    for resource in _resources(name):
        assert resource["apiVersion"] == CURRENT[resource["type"]], resource["type"]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_reference_reads_with_a_current_api_version(name: str) -> None:
    versions = {v for text in _strings(load(name)) for v in REFERENCE.findall(text)}
    assert versions and versions <= set(CURRENT.values()), versions


CHECK = re.compile(r"^(CKV_AZURE_\d+): (.{60,})$")


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_check_left_open_is_justified_where_it_applies(name: str) -> None:
    skipped: dict[str, list[str]] = {}
    for resource in _resources(name):
        for entry in resource.get("metadata", {}).get("checkov", []):
            match = CHECK.match(entry)
            assert match, entry
            skipped.setdefault(resource["type"], []).append(match.group(1))
    if name == "main.json":
        assert skipped == {
            "Microsoft.Storage/storageAccounts": ["CKV_AZURE_35", "CKV_AZURE_43", "CKV_AZURE_206"]
            * 2,
            "Microsoft.KeyVault/vaults": ["CKV_AZURE_109", "CKV_AZURE_189"],
            "Microsoft.Web/serverfarms": ["CKV_AZURE_225"],
            "Microsoft.Web/sites": [
                "CKV_AZURE_222",
                "CKV_AZURE_17",
                "CKV_AZURE_212",
                "CKV_AZURE_213",
            ],
        }
    else:
        assert skipped == {}


def test_what_checkov_asks_of_the_app_and_its_storage_is_set() -> None:
    main = load("main.json")
    config = site(main)["properties"]["siteConfig"]
    assert config["http20Enabled"] is True
    assert config["ftpsState"] == "Disabled"
    assert config["minTlsVersion"] == "1.2"
    assert site(main)["properties"]["httpsOnly"] is True
    for account in resources_of(main, "Microsoft.Storage/storageAccounts"):
        properties = account["properties"]
        assert properties["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Allow"}
        assert properties["minimumTlsVersion"] == "TLS1_2"
        assert account["sku"] == {"name": "[parameters('storageSku')]"}
    assert main["parameters"]["storageSku"]["defaultValue"] == "Standard_ZRS"


def test_the_factory_lab_storage_account_gets_blob_data_contributor() -> None:
    """The catalog lives in the factory lab's own storage account: the identity reads,
    writes and labels it and signs user delegation SAS URLs. Target labs get no role there."""
    lab_access = load("lab-access.json")
    (deployment, inner) = next((d, t) for d, t in nested(lab_access) if "catalog" in d["name"])
    assert deployment["condition"] == "[variables('isFactory')]"
    assert "resourceGroup" not in deployment and "subscriptionId" not in deployment
    account = deployment["properties"]["parameters"]["storageAccountName"]["value"]
    assert account == (
        "[last(split(reference(variables('labId'), '2018-09-15').defaultStorageAccount, '/'))]"
    )
    (assignment,) = inner["resources"]
    assert assignment["type"] == "Microsoft.Authorization/roleAssignments"
    assert assignment["scope"] == (
        "[format('Microsoft.Storage/storageAccounts/{0}', parameters('storageAccountName'))]"
    )
    assert inner["variables"]["blobDataContributor"] == BLOB_DATA_CONTRIBUTOR
    assert "variables('blobDataContributor')" in role_id(assignment)
    assert assignment["properties"]["principalId"] == "[parameters('principalId')]"
    assert assignment["properties"]["principalType"] == "ServicePrincipal"
    # main.json grants it through the factory lab's lab-access deployment only.
    accesses = [
        d["properties"]["parameters"]["access"]["value"]
        for d, t in nested(load("main.json"))
        if t == lab_access
    ]
    assert sorted(accesses) == ["factory", "target"]
