"""The factory's path through the real SDK clients: build, capture, copy, import, reuse."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.devtestlabs import models

from emulator import vhd
from tests.emulator.conftest import (
    ALPHA,
    BRAVO,
    FACTORY,
    SUB1,
    SUB2,
    UBUNTU_2204,
    Lab,
    artifact,
    vm_body,
)
from tests.localworld import LocalWorldClient

EXPAND = "properties($expand=artifacts,computeVm)"


def _build_windows_vm(emulator: LocalWorldClient, name: str) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(
        FACTORY,
        artifacts=[
            artifact(FACTORY, "windows-chocolatey", packages="git,7zip"),
            artifact(FACTORY, "windows-vscode"),
            artifact(FACTORY, "windows-sysprep"),
        ],
        tags={"factory": "test", "family": "win2019-dev"},
    )
    poller = dtl.virtual_machines.begin_create_or_update(FACTORY.group, FACTORY.name, name, body)
    first = dtl.virtual_machines.get(FACTORY.group, FACTORY.name, name)
    assert first.provisioning_state in ("Creating", "Succeeded")
    vm = poller.result()
    assert vm.provisioning_state == "Succeeded"


def test_build_vm_with_artifacts_ends_stopped_after_sysprep(emulator: LocalWorldClient) -> None:
    _build_windows_vm(emulator, "build-1")
    dtl: Any = emulator.devtestlabs(SUB1)
    vm = dtl.virtual_machines.get(FACTORY.group, FACTORY.name, "build-1", expand=EXPAND)
    assert vm.last_known_power_state == "Stopped"
    status = vm.artifact_deployment_status
    assert (status.deployment_status, status.artifacts_applied, status.total_artifacts) == (
        "Succeeded",
        3,
        3,
    )
    assert [a.status for a in vm.artifacts] == ["Succeeded"] * 3
    assert vm.artifacts[2].artifact_id.endswith(
        "/artifactsources/public repo/artifacts/windows-sysprep"
    )
    assert vm.id == vm.id.lower()
    assert vm.compute_id.endswith(
        "/resourceGroups/rg-imagefactory-vms/providers/Microsoft.Compute/virtualMachines/build-1"
    )
    assert vm.compute_vm.os_disk_id.startswith(vm.compute_id.split("/providers/")[0].lower())
    assert vm.tags == {"factory": "test", "family": "win2019-dev"}


def _exported_disk(emulator: LocalWorldClient, name: str) -> tuple[Any, str, str, str]:
    """The factory lab VM `name`, deallocated, with read access granted to its OS disk:
    the lab VM, its compute resource group, the disk's name and its read SAS."""
    dtl: Any = emulator.devtestlabs(SUB1)
    # Sysprep shut the guest down; only DevTest Labs' stop deallocates it for the export.
    dtl.virtual_machines.begin_stop(FACTORY.group, FACTORY.name, name).result()
    vm = dtl.virtual_machines.get(FACTORY.group, FACTORY.name, name)
    compute: Any = emulator.compute(SUB1)
    group = vm.compute_id.split("/")[4]
    compute_vm = compute.virtual_machines.get(group, vm.compute_id.split("/")[-1])
    disk_name = compute_vm.storage_profile.os_disk.managed_disk.id.split("/")[-1]
    assert compute_vm.storage_profile.image_reference.exact_version == "17763.6659.241205"
    access = compute.disks.begin_grant_access(
        group, disk_name, {"access": "Read", "durationInSeconds": 3600}
    ).result()
    assert access.access_sas
    return vm, group, disk_name, access.access_sas


def _image_from_vhd(target: Any, lab: Lab, name: str, blob_uri: str) -> Any:
    """A custom image made from the VHD at `blob_uri` in `lab`'s uploads."""
    image = target.custom_images.begin_create_or_update(
        lab.group,
        lab.name,
        name,
        {
            "tags": {"family": "win2019-dev"},
            "properties": {
                # The full blob URI (no SAS), as the DevTest Labs PowerShell module sends it.
                "vhd": {"imageName": blob_uri, "sysPrep": True, "osType": "Windows"}
            },
        },
    ).result()
    assert image.provisioning_state == "Succeeded"
    assert image.vhd.image_name == blob_uri
    return image


def test_disk_copy_to_another_lab_then_custom_image_chains_back(
    emulator: LocalWorldClient,
) -> None:
    _build_windows_vm(emulator, "build-2")
    vm, group, disk_name, sas = _exported_disk(emulator, "build-2")
    compute: Any = emulator.compute(SUB1)

    # Copy server-side into another subscription's lab, with a blob name of our choosing.
    target: Any = emulator.devtestlabs(SUB2)
    upload = target.labs.generate_upload_uri(
        BRAVO.group, BRAVO.name, blob_name="win2019-dev-1.vhd"
    ).upload_uri
    destination = emulator.blob_from_url(upload)
    copy = destination.start_copy_from_url(sas, metadata={"family": "win2019-dev"})
    assert copy["copy_status"] == "success"
    compute.disks.begin_revoke_access(group, disk_name).result()
    copied = destination.download_blob().readall()
    header = vhd.header(copied)
    assert vhd.field(header, "lab-vm") == vm.id
    assert "windows-chocolatey(packages=git,7zip), windows-vscode, windows-sysprep" in header
    assert vhd.field(header, "generalized") == "sysprep"
    assert destination.get_blob_properties().metadata == {"family": "win2019-dev"}
    assert any(
        v.id.endswith("/uploads/win2019-dev-1.vhd")
        for v in target.labs.list_vhds(BRAVO.group, BRAVO.name)
    )

    image = _image_from_vhd(target, BRAVO, "win2019-dev-1", upload.split("?", 1)[0])

    # The blob may go (the upload SAS cannot delete; a bearer token can): the image keeps
    # what it was made from.
    emulator.blob_service("ateambravo01").get_blob_client(
        "uploads", "win2019-dev-1.vhd"
    ).delete_blob()
    new_vm = target.virtual_machines.begin_create_or_update(
        BRAVO.group, BRAVO.name, "from-image", vm_body(BRAVO, custom_image_id=image.id)
    ).result()
    assert new_vm.custom_image_id == image.id
    bravo_compute: Any = emulator.compute(SUB2)
    new_compute_group = new_vm.compute_id.split("/")[4]
    new_disk = bravo_compute.virtual_machines.get(
        new_compute_group, "from-image"
    ).storage_profile.os_disk.managed_disk.id.split("/")[-1]
    # A running VM's disk cannot be read: the emulator refuses as Azure does.
    with pytest.raises(HttpResponseError) as refused:
        bravo_compute.disks.begin_grant_access(
            new_compute_group, new_disk, {"access": "Read", "durationInSeconds": 60}
        )
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "Conflict"


def test_custom_image_from_vm_honours_os_state(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "linux-1", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    vm = dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "linux-1")
    assert vm.last_known_power_state == "Running"
    image = dtl.custom_images.begin_create_or_update(
        ALPHA.group,
        ALPHA.name,
        "linux-golden",
        {
            "properties": {
                "vm": {
                    "sourceVmId": vm.id,
                    "linuxOsInfo": {"linuxOsState": "DeprovisionRequested"},
                }
            }
        },
    ).result()
    assert image.provisioning_state == "Succeeded"
    assert image.vm.linux_os_info.linux_os_state == "DeprovisionRequested"
    after = dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "linux-1")
    assert after.last_known_power_state == "Stopped"

    # A VM made from it has a disk that names the image and, under it, the first VM.
    child = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "linux-2", vm_body(ALPHA, custom_image_id=image.id)
    ).result()
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "linux-2-snap", vm_body(ALPHA, custom_image_id=image.id)
    ).result()
    state = emulator.admin("GET", "state")
    lab = state["world"]["subscriptions"][SUB1]["resource_groups"]["rg-devtest-weu"]["labs"][
        "team-alpha"
    ]
    assert lab["vms"]["linux-2"]["parent_header"].count("lab-vm: " + vm.id) == 1
    assert child.os_type == "Linux"


def test_windows_image_refuses_linux_os_info(emulator: LocalWorldClient) -> None:
    _build_windows_vm(emulator, "build-3")
    dtl: Any = emulator.devtestlabs(SUB1)
    vm = dtl.virtual_machines.get(FACTORY.group, FACTORY.name, "build-3")
    try:
        dtl.custom_images.begin_create_or_update(
            FACTORY.group,
            FACTORY.name,
            "bad",
            {
                "properties": {
                    "vm": {
                        "sourceVmId": vm.id,
                        "linuxOsInfo": {"linuxOsState": "DeprovisionApplied"},
                    }
                }
            },
        )
    except Exception as exc:
        assert "InvalidParameter" in str(exc) and "windowsOsInfo" in str(exc)
    else:
        raise AssertionError("a Windows VM captured with linuxOsInfo must be refused")


def test_custom_image_from_missing_vhd_is_refused(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    missing = (
        emulator.blob_service("afactorylab01").get_blob_client("uploads", "nothing-here.vhd").url
    )
    with pytest.raises(HttpResponseError) as refused:
        dtl.custom_images.begin_create_or_update(
            FACTORY.group,
            FACTORY.name,
            "ghost",
            {"properties": {"vhd": {"imageName": missing, "osType": "Windows"}}},
        )
    assert refused.value.error is not None and refused.value.error.code == "InvalidVhd"
    assert "nothing-here.vhd" in str(refused.value)


def test_list_filter_top_patch_tags_and_delete(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    for index in range(3):
        dtl.virtual_machines.begin_create_or_update(
            ALPHA.group,
            ALPHA.name,
            f"vm-{index}",
            vm_body(ALPHA, image=UBUNTU_2204, tags={"factory": "f1" if index < 2 else "other"}),
        ).result()
    mine = list(dtl.virtual_machines.list(ALPHA.group, ALPHA.name, filter="tags/factory eq 'f1'"))
    assert sorted(v.name for v in mine) == ["vm-0", "vm-1"]
    assert len(list(dtl.virtual_machines.list(ALPHA.group, ALPHA.name, top=1))) == 1

    dtl.virtual_machines.update(ALPHA.group, ALPHA.name, "vm-2", tags={"factory": "f1"})
    mine = list(dtl.virtual_machines.list(ALPHA.group, ALPHA.name, filter="tags/factory eq 'f1'"))
    assert len(mine) == 3

    dtl.virtual_machines.begin_delete(ALPHA.group, ALPHA.name, "vm-0").result()
    try:
        dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "vm-0")
    except ResourceNotFoundError as exc:
        assert exc.error is not None and exc.error.code == "ResourceNotFound"
    else:
        raise AssertionError("a deleted VM must be gone")
    assert sorted(v.name for v in dtl.virtual_machines.list(ALPHA.group, ALPHA.name)) == [
        "vm-1",
        "vm-2",
    ]


def test_apply_artifacts_to_running_vm(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "apply-1", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    dtl.virtual_machines.begin_apply_artifacts(
        ALPHA.group,
        ALPHA.name,
        "apply-1",
        # This SDK takes the artifact list itself, as model objects (not dicts).
        artifacts=[
            models.ArtifactInstallProperties(
                artifact_id=str(artifact(ALPHA, "linux-apt-package")["artifactId"]),
                parameters=[models.ArtifactParameterProperties(name="packages", value="jq")],
            )
        ],
    ).result()
    vm = dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "apply-1", expand=EXPAND)
    assert [(a.artifact_title, a.status) for a in vm.artifacts] == [("APT packages", "Succeeded")]
    assert vm.artifact_deployment_status.artifacts_applied == 1


def test_labs_gallery_and_artifacts_listing(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    assert sorted(lab.name for lab in dtl.labs.list_by_subscription()) == [
        "factory-lab",
        "team-alpha",
    ]
    assert [lab.name for lab in dtl.labs.list_by_resource_group(FACTORY.group)] == ["factory-lab"]
    lab = dtl.labs.get(FACTORY.group, FACTORY.name)
    assert lab.default_storage_account.endswith("/storageaccounts/afactorylab01")
    assert lab.vm_creation_resource_group is None  # 2018-09-15 does not report it (recorded)
    gallery = {
        g.name: g.image_reference for g in dtl.gallery_images.list(FACTORY.group, FACTORY.name)
    }
    assert gallery["Windows Server 2022 Datacenter"].sku == "2022-datacenter"
    sources = list(dtl.artifact_sources.list(FACTORY.group, FACTORY.name))
    assert [s.name for s in sources] == ["public repo"]
    names = {a.name for a in dtl.artifacts.list(FACTORY.group, FACTORY.name, "public repo")}
    assert {"windows-sysprep", "linux-deprovision", "windows-chocolatey", "windows-git"} <= names
    sysprep = dtl.artifacts.get(FACTORY.group, FACTORY.name, "public repo", "windows-sysprep")
    assert sysprep.target_os_type == "Windows"
    compute: Any = emulator.compute(SUB1)
    versions = compute.virtual_machine_images.list(
        "westeurope", "Canonical", "ubuntu-24_04-lts", "server"
    )
    assert [v.name for v in versions][-1] == "24.04.202412010"
    newest = compute.virtual_machine_images.list(
        "westeurope", "Canonical", "ubuntu-24_04-lts", "server", top=1, orderby="name desc"
    )
    assert [v.name for v in newest] == ["24.04.202412010"]


def test_stop_and_start_a_lab_vm(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "power-1", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    dtl.virtual_machines.begin_stop(ALPHA.group, ALPHA.name, "power-1").result()
    assert dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "power-1").last_known_power_state == (
        "Stopped"
    )
    dtl.virtual_machines.begin_start(ALPHA.group, ALPHA.name, "power-1").result()
    assert dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "power-1").last_known_power_state == (
        "Running"
    )


def test_upload_uri_for_a_named_blob_allows_copy_and_metadata(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    # The SDK takes the blob name itself (a str), not a parameter object.
    uri = dtl.labs.generate_upload_uri(
        FACTORY.group, FACTORY.name, blob_name="named.vhd"
    ).upload_uri
    assert uri.split("?")[0].endswith("/afactorylab01/uploads/named.vhd")
    blob = emulator.blob_from_url(uri)
    blob.upload_blob(vhd.render([("lab-vm", "synthetic")]), blob_type="PageBlob")
    blob.set_blob_metadata({"family": "named", "version": "1"})
    assert blob.get_blob_properties().metadata == {"family": "named", "version": "1"}
    assert blob.download_blob().readall().startswith(b"EMULATED-VHD/1\nlab-vm: synthetic\n")


def test_lab_network_and_policy_are_readable_and_checked(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    networks = list(dtl.virtual_networks.list(ALPHA.group, ALPHA.name))
    assert [n.name for n in networks] == ["Dtlteam-alpha"]
    subnet = networks[0].subnet_overrides[0].lab_subnet_name
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    props["labVirtualNetworkId"] = networks[0].id
    props["labSubnetName"] = subnet
    vm = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "net-1", body
    ).result()
    assert vm.lab_virtual_network_id == networks[0].id
    props["labSubnetName"] = "elsewhere"
    with pytest.raises(HttpResponseError) as refused:
        dtl.virtual_machines.begin_create_or_update(ALPHA.group, ALPHA.name, "net-2", body)
    assert refused.value.status_code == 400 and "elsewhere" in str(refused.value)
    policies = list(dtl.policies.list(ALPHA.group, ALPHA.name, "default"))
    assert [(p.fact_name, p.threshold) for p in policies] == [("LabVmCount", "20")]


def test_lab_to_lab_copy_with_upload_uris_and_page_blob_rule(emulator: LocalWorldClient) -> None:
    source_lab: Any = emulator.devtestlabs(SUB1)
    target_lab: Any = emulator.devtestlabs(SUB2)
    source_uri = source_lab.labs.generate_upload_uri(
        FACTORY.group, FACTORY.name, blob_name="catalog-1.vhd"
    ).upload_uri
    content = vhd.render([("lab-vm", "catalog-source")])
    emulator.blob_from_url(source_uri).upload_blob(content, blob_type="PageBlob")
    target_uri = target_lab.labs.generate_upload_uri(
        BRAVO.group, BRAVO.name, blob_name="catalog-1.vhd"
    ).upload_uri
    target = emulator.blob_from_url(target_uri)
    assert target.start_copy_from_url(source_uri)["copy_status"] == "success"
    assert target.download_blob().readall() == content

    block_uri = target_lab.labs.generate_upload_uri(
        BRAVO.group, BRAVO.name, blob_name="block.vhd"
    ).upload_uri
    emulator.blob_from_url(block_uri).upload_blob(content)
    with pytest.raises(HttpResponseError) as refused:
        target_lab.custom_images.begin_create_or_update(
            BRAVO.group,
            BRAVO.name,
            "from-block",
            {"properties": {"vhd": {"imageName": block_uri.split("?")[0], "osType": "Linux"}}},
        )
    assert "page blob" in str(refused.value)


def test_deleting_a_vm_mid_build_cancels_its_creation(emulator: LocalWorldClient) -> None:
    emulator.admin("POST", "faults", {"kind": "slow", "factor": 1000, "method": "PUT"})
    dtl: Any = emulator.devtestlabs(SUB1)
    creating = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "abandoned", vm_body(ALPHA, image=UBUNTU_2204)
    )
    deleting = dtl.virtual_machines.begin_delete(ALPHA.group, ALPHA.name, "abandoned")
    with pytest.raises(HttpResponseError) as canceled:
        creating.result()
    assert canceled.value.error is not None and canceled.value.error.code == "Canceled"
    deleting.result()
    assert [vm.name for vm in dtl.virtual_machines.list(ALPHA.group, ALPHA.name)] == []
