"""`lab image create|delete` end to end: a custom image from a VM made by `lab vm create`."""

from __future__ import annotations

from tests.lab_tasks.conftest import ALPHA, ALPHA_LAB, ALPHA_RG, SUB1, LabCli, vm_args


def test_custom_image_from_a_lab_vm_and_its_deletion(lab_cli: LabCli) -> None:
    vm_id = lab_cli.ok(*vm_args("w16-src"))["labVmId"]
    created = lab_cli.ok(
        "image", "create", "--lab", ALPHA, "--name", "w16-golden", "--vm", vm_id,
        "--os-state", "SysprepRequested", "--description", "Windows Server 2016, syspreped",
    )  # fmt: skip
    assert created["customImageId"].lower() == f"{ALPHA}/customimages/w16-golden".lower()
    image = lab_cli.world.devtestlabs(SUB1).custom_images.get(ALPHA_RG, ALPHA_LAB, "w16-golden")
    assert image.provisioning_state == "Succeeded"
    assert image.description == "Windows Server 2016, syspreped"
    assert image.vm is not None and image.vm.windows_os_info is not None
    assert image.vm.windows_os_info.windows_os_state == "SysprepRequested"
    assert str(image.vm.source_vm_id).lower() == vm_id.lower()

    deleted = lab_cli.ok("image", "delete", "--lab", ALPHA, "--name", "w16-golden")
    assert deleted["deleted"] is True
    assert list(lab_cli.world.devtestlabs(SUB1).custom_images.list(ALPHA_RG, ALPHA_LAB)) == []
    again = lab_cli("image", "delete", "--lab", ALPHA, "--name", "w16-golden", "--output", "json")
    assert again.code == 0 and again.json()["deleted"] is False
    assert "already gone" in again.err


def test_an_os_state_of_the_other_os_is_a_usage_error(lab_cli: LabCli) -> None:
    lab_cli.ok(*vm_args("w16-os"))
    run = lab_cli(
        "image", "create", "--lab", ALPHA, "--name", "bad", "--vm", "w16-os",
        "--os-state", "DeprovisionRequested",
    )  # fmt: skip
    assert run.code == 2
    assert "is for Linux, and the VM w16-os runs Windows" in run.err
