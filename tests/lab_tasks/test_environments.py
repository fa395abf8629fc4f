"""`lab env create|update|delete` end to end: an environment from a repository template
(DevTest Labs deploys it into a resource group of its own), its outputs captured, a second
template deployed into it, and its deletion."""

from __future__ import annotations

import json
from pathlib import Path

from azure.core.exceptions import ResourceNotFoundError

from tests.lab_tasks.conftest import ALPHA, ALPHA_LAB, ALPHA_RG, FIXTURES, SUB1, LabCli


def _create(lab_cli: LabCli, name: str, *extra: str) -> dict[str, object]:
    return lab_cli.ok(
        "env", "create", "--lab", ALPHA, "--name", name, "--repository", "public repo",
        "--template", "WebAppOutputs", *extra,
    )  # fmt: skip


def test_environment_from_repository_template_with_outputs(lab_cli: LabCli, tmp_path: Path) -> None:
    outputs = _create(
        lab_cli, "shop", "--override", "siteSuffix=Shop", "--override", "workerCount=3",
        "--export-template", str(tmp_path / "exported"),
    )  # fmt: skip
    group_id = str(outputs["environmentResourceGroupId"])
    group = group_id.rsplit("/", 1)[-1]
    assert group.startswith(f"{ALPHA_LAB}-shop-")
    assert str(outputs["environmentResourceId"]).lower().endswith("/environments/shop")
    site = str(outputs["siteName"])
    assert site.endswith("-shop") and len(site) == len("abc-shop")  # toLower, take(...,3)
    assert outputs["siteId"] == (
        f"/subscriptions/{SUB1}/resourceGroups/{group}/providers/Microsoft.Web/sites/{site}"
    )
    assert outputs["location"] == "westeurope"
    assert outputs["workerCount"] == 3
    resources = lab_cli.resources()
    held = {r.type: r.name for r in resources.resources.list_by_resource_group(group)}
    assert held["Microsoft.Web/sites"] == site
    assert set(held) == {"Microsoft.Web/sites", "Microsoft.Web/serverfarms"}
    exported = json.loads((tmp_path / "exported" / "azuredeploy.json").read_text())
    assert set(exported["outputs"]) == {"siteName", "siteId", "location", "workerCount"}
    sent = json.loads((tmp_path / "exported" / "azuredeploy.parameters.json").read_text())
    assert sent["parameters"] == {"siteSuffix": {"value": "Shop"}, "workerCount": {"value": 3}}


def test_environment_from_the_real_webapp_template(lab_cli: LabCli) -> None:
    outputs = lab_cli.ok(
        "env", "create", "--lab", ALPHA, "--name", "plain", "--repository", "public repo",
        "--template", "WebApp",
    )  # fmt: skip
    assert set(outputs) == {"environmentResourceId", "environmentResourceGroupId"}
    env = lab_cli.world.devtestlabs(SUB1).environments.get(ALPHA_RG, ALPHA_LAB, "@me", "plain")
    assert env.provisioning_state == "Succeeded"
    assert env.arm_template_display_name == "Web App"


def test_update_deploys_a_second_template_into_the_environment(lab_cli: LabCli) -> None:
    created = _create(lab_cli, "stage")
    group = str(created["environmentResourceGroupId"]).rsplit("/", 1)[-1]
    run = lab_cli(
        "env", "update", "--lab", ALPHA, "--name", "stage",
        "--template", str(FIXTURES / "storage-account.json"),
        "--parameter-overrides", "-accountPrefix 'st' -replicas 2", "--output", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    outputs = run.json()
    assert outputs["environmentResourceGroupId"] == created["environmentResourceGroupId"]
    account = str(outputs["storageAccountName"])
    assert account.startswith("st") and len(account) == 15
    assert outputs["replicas"] == 2
    assert outputs["accountKey"] == "***"  # a secure output is never printed
    deployments = list(lab_cli.resources().deployments.list_by_resource_group(group))
    assert len(deployments) == 2
    assert all(d.properties.provisioning_state == "Succeeded" for d in deployments)
    types = {r.type for r in lab_cli.resources().resources.list_by_resource_group(group)}
    assert "Microsoft.Storage/storageAccounts" in types


def test_delete_environment_removes_its_resource_group(lab_cli: LabCli) -> None:
    created = _create(lab_cli, "gone")
    group = str(created["environmentResourceGroupId"]).rsplit("/", 1)[-1]
    deleted = lab_cli.ok("env", "delete", "--lab", ALPHA, "--name", "gone")
    assert deleted["deleted"] is True
    try:
        lab_cli.resources().resource_groups.get(group)
    except ResourceNotFoundError:
        pass
    else:
        raise AssertionError(f"the resource group {group} is still there")
    again = lab_cli("env", "delete", "--lab", ALPHA, "--name", "gone", "--output", "json")
    assert again.code == 0
    assert again.json()["deleted"] is False
    assert "already gone" in again.err
