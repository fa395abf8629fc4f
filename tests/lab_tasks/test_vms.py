"""`lab vm create|delete` end to end: the seed's GoldenImages template through a real
deployment into the lab's resource group, as the extension's Create VM task does it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.lab_tasks.conftest import ALPHA, ALPHA_LAB, ALPHA_RG, GOLDEN_WIN2016, LabCli, vm_args


def test_vm_from_golden_image_template_with_overrides(lab_cli: LabCli) -> None:
    outputs = lab_cli.ok(*vm_args("w16-build"))
    assert outputs["labVmId"].lower() == f"{ALPHA}/virtualmachines/w16-build".lower()
    vm = lab_cli.world.devtestlabs(lab_cli.world.scenario.subscriptions[0].id).virtual_machines.get(
        ALPHA_RG, ALPHA_LAB, "w16-build"
    )
    assert vm.provisioning_state == "Succeeded"
    assert vm.size == "Standard_DS2_v2"
    assert vm.gallery_image_reference is not None
    assert vm.gallery_image_reference.sku == "2016-Datacenter"
    assert vm.user_name == "builder"
    assert str(vm.lab_virtual_network_id).lower().endswith("/virtualnetworks/dtlteam-alpha")
    assert vm.lab_subnet_name == "Dtlteam-alphaSubnet"
    deployments = list(lab_cli.resources().deployments.list_by_resource_group(ALPHA_RG))
    assert [d.properties.provisioning_state for d in deployments] == ["Succeeded"]
    assert deployments[0].name.startswith("Dtl")


def test_parameters_file_and_extension_override_text(lab_cli: LabCli, tmp_path: Path) -> None:
    parameters = tmp_path / "vm.parameters.json"
    parameters.write_text(
        json.dumps(
            {"parameters": {"size": {"value": "Standard_B2s"}, "userName": {"value": "ops"}}}
        )
    )
    outputs = lab_cli.ok(
        "vm", "create", "--lab", ALPHA, "--name", "w16-params", "--template",
        str(GOLDEN_WIN2016), "--parameters", str(parameters),
        "--parameter-overrides", "-userName 'deployer' -password \"Local-Only-Passw0rd!\"",
    )  # fmt: skip
    name = outputs["labVmId"].rsplit("/", 1)[-1]
    vm = lab_cli.world.devtestlabs(ALPHA.split("/")[2]).virtual_machines.get(
        ALPHA_RG, ALPHA_LAB, name
    )
    assert (vm.size, vm.user_name) == ("Standard_B2s", "deployer")


def test_template_without_network_gets_the_labs_network(lab_cli: LabCli, tmp_path: Path) -> None:
    template = json.loads(GOLDEN_WIN2016.read_text(encoding="utf-8"))
    props = template["resources"][0]["properties"]
    del props["labVirtualNetworkId"], props["labSubnetName"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(template))
    outputs = lab_cli.ok(
        "vm", "create", "--lab", ALPHA, "--name", "w16-bare", "--template", str(bare),
        "--override", "size=Standard_B2s", "--override", "userName=u",
        "--override", "password=Local-Only-Passw0rd!",
    )  # fmt: skip
    assert outputs["labVmId"].lower().endswith("/virtualmachines/w16-bare")


def test_retry_after_an_injected_failure(lab_cli: LabCli) -> None:
    lab_cli.world.admin(
        "POST",
        "faults",
        {
            "kind": "fail_operation",
            "resource_type": "Microsoft.DevTestLab/labs/virtualmachines",
            "method": "PUT",
            "count": 1,
            "code": "AllocationFailed",
            "message": "No capacity for the size in the region.",
        },
    )
    run = lab_cli(
        *vm_args("w16-retry", "--retries", "2", "--delete-failed-before-retry",
                 "--append-retry-number"),
        "--output", "json",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert "Attempt 1 of 3 failed" in run.err
    assert "AllocationFailed" in run.err
    assert run.json()["labVmId"].lower().endswith("/virtualmachines/w16-retry-1")
    names = {
        vm.name
        for vm in lab_cli.world.devtestlabs(ALPHA.split("/")[2]).virtual_machines.list(
            ALPHA_RG, ALPHA_LAB
        )
    }
    assert names == {"w16-retry-1"}  # the failed VM was deleted before the retry


def test_a_failure_without_retries_exits_1_with_azures_error(lab_cli: LabCli) -> None:
    lab_cli.world.admin(
        "POST",
        "faults",
        {
            "kind": "artifact_failure",
            "artifact": "windows-7zip",
            "message": "The installer exited with code 1603.",
        },
    )
    template = json.loads(GOLDEN_WIN2016.read_text(encoding="utf-8"))
    artifact = (
        "[resourceId('Microsoft.DevTestLab/labs/artifactSources/artifacts', "
        "parameters('labName'), 'public repo', 'windows-7zip')]"
    )
    template["resources"][0]["properties"]["artifacts"] = [{"artifactId": artifact}]
    path = Path(lab_cli.world.info.state_dir) / "with-artifact.json"
    path.write_text(json.dumps(template))
    run = lab_cli(
        "vm", "create", "--lab", ALPHA, "--name", "w16-fail", "--template", str(path),
        "--override", "size=Standard_B2s", "--override", "userName=u",
        "--override", "password=Local-Only-Passw0rd!", "--fail-on-artifact-error",
    )  # fmt: skip
    assert run.code == 1
    assert "DeploymentFailed" in run.err
    assert "1603" in run.err
    assert run.out == ""
    assert len(run.err.strip().splitlines()[-1]) > 0


def test_delete_vm_and_delete_again(lab_cli: LabCli) -> None:
    lab_cli.ok(*vm_args("w16-del"))
    first = lab_cli.ok("vm", "delete", "--lab", ALPHA, "--name", "w16-del")
    assert first["deleted"] is True
    assert list(lab_cli.world.devtestlabs(ALPHA.split("/")[2]).virtual_machines.list(
        ALPHA_RG, ALPHA_LAB
    )) == []  # fmt: skip
    again = lab_cli("vm", "delete", "--lab", ALPHA, "--name", "w16-del", "--output", "json")
    assert again.code == 0
    assert again.json()["deleted"] is False
    assert "already gone" in again.err


def test_an_operation_that_outlasts_the_timeout_exits_1(lab_cli: LabCli) -> None:
    lab_cli.world.admin(
        "POST",
        "faults",
        {"kind": "slow", "resource_type": "Microsoft.DevTestLab/labs/virtualmachines",
         "factor": 100000},
    )  # fmt: skip
    run = lab_cli(*vm_args("w16-slow", "--timeout", "0.01"))
    assert run.code == 1
    assert "Creating lab VM w16-slow did not finish within the 0.01-minute timeout" in run.err
