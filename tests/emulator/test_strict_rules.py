"""Rules the emulator enforces as Azure does, each through the real SDK clients.

Sources: the VM body `az lab vm create` sends (Azure/azure-cli lab recording
test_lab_vm.yaml) and the spec example VirtualMachines_CreateOrUpdate.json name the lab's
network and subnet; the spec example Labs_GenerateUploadUri.json shows the upload SAS
(`sr=b`, `sp=rcw`, 24 hours).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient

from emulator import vhd
from tests.emulator.conftest import (
    ALPHA,
    FACTORY,
    SUB1,
    UBUNTU_2204,
    artifact,
    lab_id,
    lab_network,
    vm_body,
)
from tests.localworld import LocalWorldClient


# ----- VM creation names the lab's virtual network and subnet ---------------------------
def test_vm_as_az_lab_vm_create_sends_it_names_the_lab_network(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    network = next(iter(dtl.virtual_networks.list(ALPHA.group, ALPHA.name, top=1)))
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    # az lab vm create sends the network id in lowercase and the subnet as listed.
    props["labVirtualNetworkId"] = network.id.lower()
    props["labSubnetName"] = network.allowed_subnets[0].lab_subnet_name
    vm = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "net-ok", body
    ).result()
    assert vm.lab_virtual_network_id == network.id.lower()
    assert vm.lab_subnet_name == "Dtlteam-alphaSubnet"


@pytest.mark.parametrize(
    "missing",
    [("labVirtualNetworkId", "labSubnetName"), ("labVirtualNetworkId",), ("labSubnetName",)],
)
def test_vm_without_the_lab_network_is_refused(
    emulator: LocalWorldClient, missing: tuple[str, ...]
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    for key in missing:
        del props[key]
    with pytest.raises(HttpResponseError) as refused:
        dtl.virtual_machines.begin_create_or_update(ALPHA.group, ALPHA.name, "no-net", body)
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "MissingRequiredProperties"
    for key in ("labVirtualNetworkId", "labSubnetName"):
        assert (f"properties.{key}" in str(refused.value.error.message)) == (key in missing)
    assert [vm.name for vm in dtl.virtual_machines.list(ALPHA.group, ALPHA.name)] == []


def test_vm_naming_another_labs_network_is_refused(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    props.update(lab_network(FACTORY))
    with pytest.raises(HttpResponseError) as refused:
        dtl.virtual_machines.begin_create_or_update(ALPHA.group, ALPHA.name, "other-net", body)
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "InvalidParameter"
    assert lab_id(*FACTORY).lower() in str(refused.value.error.message).lower()


# ----- generateUploadUri: a SAS for one blob ---------------------------------------------
def _sas(uri: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(uri).query))


def test_upload_uri_is_a_read_create_write_sas_for_that_one_blob(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    uri = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name, blob_name="one.vhd").upload_uri
    after = dt.datetime.now(dt.UTC)
    assert urlsplit(uri).path.endswith("/afactorylab01/uploads/one.vhd")
    sas = _sas(uri)
    assert (sas["sr"], sas["sp"]) == ("b", "rcw")
    start = dt.datetime.fromisoformat(sas["st"].replace("Z", "+00:00"))
    expiry = dt.datetime.fromisoformat(sas["se"].replace("Z", "+00:00"))
    assert before - dt.timedelta(minutes=15, seconds=1) <= start <= after - dt.timedelta(minutes=15)
    assert before + dt.timedelta(hours=24) <= expiry <= after + dt.timedelta(hours=24)

    # What the SAS allows: create, write, label and read that blob.
    blob = emulator.blob_from_url(uri)
    blob.upload_blob(vhd.render([("lab-vm", "one")]), blob_type="PageBlob", overwrite=True)
    blob.set_blob_metadata({"family": "one"})
    assert blob.get_blob_properties().metadata == {"family": "one"}
    assert blob.download_blob().readall().startswith(b"EMULATED-VHD/1\nlab-vm: one\n")


def test_upload_sas_for_one_blob_cannot_touch_another_list_or_delete(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    other = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name, blob_name="b.vhd").upload_uri
    emulator.blob_from_url(other).upload_blob(
        vhd.render([("lab-vm", "b")]), blob_type="PageBlob", overwrite=True
    )
    uri = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name, blob_name="a.vhd").upload_uri
    emulator.blob_from_url(uri).upload_blob(
        vhd.render([("lab-vm", "a")]), blob_type="PageBlob", overwrite=True
    )
    base, _, query = uri.partition("?")
    container = base.rsplit("/", 1)[0]
    # The same token on blob B: Azurite checks the signature against the blob it names.
    stolen = emulator.blob_from_url(f"{container}/b.vhd?{query}")
    with pytest.raises(HttpResponseError) as read_other:
        stolen.download_blob().readall()
    assert read_other.value.status_code == 403
    with pytest.raises(HttpResponseError) as write_other:
        stolen.upload_blob(b"\x00" * 512, blob_type="PageBlob", overwrite=True)
    assert write_other.value.status_code == 403
    # Nor list the container, nor delete the blob it names.
    listing = ContainerClient.from_container_url(
        f"{container}?{query}", connection_verify=emulator.ca_file
    )
    with pytest.raises(HttpResponseError) as listed:
        list(listing.list_blobs())
    assert listed.value.status_code == 403
    with pytest.raises(HttpResponseError) as deleted:
        emulator.blob_from_url(uri).delete_blob()
    assert deleted.value.status_code == 403
    assert (
        emulator.blob_from_url(other)
        .download_blob()
        .readall()
        .startswith(b"EMULATED-VHD/1\nlab-vm: b\n")
    )


def test_upload_uri_without_a_blob_name_is_still_one_blob(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    first = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name).upload_uri
    second = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name).upload_uri
    for uri in (first, second):
        path = urlsplit(uri).path
        assert path.rsplit("/", 2)[-2] == "uploads" and path.endswith(".vhd")
        assert _sas(uri)["sr"] == "b"
    assert urlsplit(first).path != urlsplit(second).path


# ----- power states: a guest shutdown is not a deallocation ----------------------------
def _sysprepped_vm(emulator: LocalWorldClient, name: str) -> tuple[Any, str, str]:
    """A Windows VM built with sysprep last; returns the lab VM, its compute group and disk."""
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(FACTORY, artifacts=[artifact(FACTORY, "windows-sysprep")])
    dtl.virtual_machines.begin_create_or_update(FACTORY.group, FACTORY.name, name, body).result()
    vm = dtl.virtual_machines.get(FACTORY.group, FACTORY.name, name)
    compute: Any = emulator.compute(SUB1)
    group = vm.compute_id.split("/")[4]
    disk = compute.virtual_machines.get(group, name).storage_profile.os_disk.name
    return vm, group, disk


def _power_codes(emulator: LocalWorldClient, name: str, group: str) -> tuple[str, str, str, str]:
    """Compute's power status (code, display), DevTest Labs' computeVm code and its word."""
    compute: Any = emulator.compute(SUB1)
    view = compute.virtual_machines.instance_view(group, name)
    power = [s for s in view.statuses if s.code.startswith("PowerState/")]
    assert len(power) == 1
    dtl: Any = emulator.devtestlabs(SUB1)
    vm = dtl.virtual_machines.get(
        FACTORY.group, FACTORY.name, name, expand="properties($expand=computeVm)"
    )
    dtl_power = [s for s in vm.compute_vm.statuses if s.code.startswith("PowerState/")]
    assert len(dtl_power) == 1 and dtl_power[0].display_status == power[0].display_status
    return power[0].code, power[0].display_status, dtl_power[0].code, vm.last_known_power_state


def _agreed(state: str, last_known: str) -> tuple[str, str, str, str]:
    """What `_power_codes` reads when Compute and DevTest Labs agree the VM is `state`."""
    return f"PowerState/{state}", f"VM {state}", f"PowerState/{state}", last_known


def test_sysprep_leaves_the_compute_vm_stopped_but_allocated(emulator: LocalWorldClient) -> None:
    _, group, disk = _sysprepped_vm(emulator, "sys-1")
    assert _power_codes(emulator, "sys-1", group) == _agreed("stopped", "Stopped")
    compute: Any = emulator.compute(SUB1)
    assert compute.disks.get(group, disk).disk_state == "Attached"
    view = compute.virtual_machines.get(group, "sys-1", expand="instanceView").instance_view
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/stopped"]


def test_capture_of_an_allocated_vm_is_refused_and_allowed_after_devtest_labs_stop(
    emulator: LocalWorldClient,
) -> None:
    vm, group, disk = _sysprepped_vm(emulator, "sys-2")
    compute: Any = emulator.compute(SUB1)
    dtl: Any = emulator.devtestlabs(SUB1)
    read = {"access": "Read", "durationInSeconds": 3600}
    with pytest.raises(HttpResponseError) as refused:
        compute.disks.begin_grant_access(group, disk, read)
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "Conflict"
    compute_id = (
        f"/subscriptions/{SUB1}/resourceGroups/{group}/providers/Microsoft.Compute"
        "/virtualMachines/sys-2"
    )
    assert refused.value.error.message == (
        f"Access not permitted because disk {disk} is currently attached to running VM "
        f"{compute_id}."
    )

    # DevTest Labs' stop deallocates, taking the scenario's vm_stop of simulated time.
    emulator.admin("POST", "clock", {"scale": 1})
    stopping = dtl.virtual_machines.begin_stop(FACTORY.group, FACTORY.name, "sys-2")
    assert _power_codes(emulator, "sys-2", group) == _agreed("deallocating", "Stopping")
    with pytest.raises(HttpResponseError) as still_refused:
        compute.disks.begin_grant_access(group, disk, read)
    assert still_refused.value.status_code == 409
    emulator.admin("POST", "clock", {"advance": emulator.scenario.durations.vm_stop})
    stopping.result()
    assert _power_codes(emulator, "sys-2", group) == _agreed("deallocated", "Stopped")
    assert compute.disks.get(group, disk).disk_state == "Reserved"
    emulator.admin("POST", "clock", {"scale": 6000})
    access = compute.disks.begin_grant_access(group, disk, read).result()
    header = vhd.header(emulator.blob_from_url(access.access_sas).download_blob().readall())
    assert vhd.field(header, "lab-vm") == vm.id
    assert vhd.field(header, "generalized") == "sysprep"
    compute.disks.begin_revoke_access(group, disk).result()


def test_devtest_labs_start_runs_the_vm_again_and_stop_twice_is_harmless(
    emulator: LocalWorldClient,
) -> None:
    _, group, disk = _sysprepped_vm(emulator, "sys-3")
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.virtual_machines.begin_stop(FACTORY.group, FACTORY.name, "sys-3").result()
    dtl.virtual_machines.begin_stop(FACTORY.group, FACTORY.name, "sys-3").result()
    assert _power_codes(emulator, "sys-3", group)[0] == "PowerState/deallocated"
    dtl.virtual_machines.begin_start(FACTORY.group, FACTORY.name, "sys-3").result()
    assert _power_codes(emulator, "sys-3", group) == _agreed("running", "Running")
    compute: Any = emulator.compute(SUB1)
    with pytest.raises(HttpResponseError) as refused:
        compute.disks.begin_grant_access(group, disk, {"access": "Read", "durationInSeconds": 60})
    assert refused.value.status_code == 409


def test_a_failed_stop_leaves_the_vm_where_it_was(emulator: LocalWorldClient) -> None:
    _, group, _ = _sysprepped_vm(emulator, "sys-4")
    emulator.admin(
        "POST",
        "faults",
        {"kind": "fail_operation", "method": "POST", "path_contains": "/sys-4/stop",
         "code": "OperationFailed", "count": 1},
    )  # fmt: skip
    dtl: Any = emulator.devtestlabs(SUB1)
    with pytest.raises(HttpResponseError) as failed:
        dtl.virtual_machines.begin_stop(FACTORY.group, FACTORY.name, "sys-4").result()
    assert failed.value.error is not None and failed.value.error.code == "OperationFailed"
    assert _power_codes(emulator, "sys-4", group)[0] == "PowerState/stopped"


# ----- a custom image from a VHD names it by its blob URI --------------------------------
def _uploaded(emulator: LocalWorldClient, name: str) -> str:
    """Upload a synthetic page-blob VHD to the factory lab; return its URI without the SAS."""
    dtl: Any = emulator.devtestlabs(SUB1)
    uri = dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name, blob_name=name).upload_uri
    emulator.blob_from_url(uri).upload_blob(
        vhd.render([("lab-vm", name)]), blob_type="PageBlob", overwrite=True
    )
    return str(uri).split("?", 1)[0]


def _image_from(emulator: LocalWorldClient, name: str, source: dict[str, Any]) -> Any:
    dtl: Any = emulator.devtestlabs(SUB1)
    return dtl.custom_images.begin_create_or_update(
        FACTORY.group, FACTORY.name, name, {"properties": {"vhd": source}}
    ).result()


def _source_header(emulator: LocalWorldClient, name: str) -> str:
    state = emulator.admin("GET", "state")
    lab = state["world"]["subscriptions"][SUB1]["resource_groups"][FACTORY.group]["labs"][
        FACTORY.name
    ]
    return str(lab["images"][name]["source_header"])


def test_image_from_the_vhd_blob_uri_as_the_powershell_module_sends_it(
    emulator: LocalWorldClient,
) -> None:
    uri = _uploaded(emulator, "module.vhd")
    # The team's quick-start template defaults osType to lowercase "windows".
    image = _image_from(
        emulator, "from-module", {"imageName": uri, "sysPrep": True, "osType": "windows"}
    )
    assert image.provisioning_state == "Succeeded"
    assert image.vhd.image_name == uri
    header = _source_header(emulator, "from-module")
    assert vhd.field(header, "imported-from-blob") == "afactorylab01/uploads/module.vhd"
    assert vhd.field(header, "declared-os-type") == "Windows"
    assert vhd.field(header, "declared-sysprep") == "yes"
    _image_from(emulator, "not-sysprepped", {"imageName": uri, "osType": "Windows"})
    assert vhd.field(_source_header(emulator, "not-sysprepped"), "declared-sysprep") == "no"


@pytest.mark.parametrize(
    "how",
    ["bare name", "with its SAS", "another lab's account", "a blob that does not exist"],
)
def test_image_from_anything_but_the_lab_vhd_blob_uri_is_refused(
    emulator: LocalWorldClient, how: str
) -> None:
    uri = _uploaded(emulator, "refused.vhd")
    dtl: Any = emulator.devtestlabs(SUB1)
    names = {
        "bare name": "refused.vhd",
        "with its SAS": dtl.labs.generate_upload_uri(
            FACTORY.group, FACTORY.name, blob_name="refused.vhd"
        ).upload_uri,
        "another lab's account": uri.replace("/afactorylab01/", "/ateamalpha01/"),
        "a blob that does not exist": uri.replace("refused.vhd", "absent.vhd"),
    }
    with pytest.raises(HttpResponseError) as refused:
        _image_from(emulator, "refused", {"imageName": names[how], "osType": "Windows"})
    assert refused.value.status_code == 400
    assert refused.value.error is not None and refused.value.error.code == "InvalidVhd"
    message = str(refused.value.error.message)
    assert ("not found" in message) == (how == "a blob that does not exist")
    dtl_images = list(dtl.custom_images.list(FACTORY.group, FACTORY.name))
    assert [i.name for i in dtl_images] == []


def test_image_from_vhd_refuses_a_sysprep_that_is_not_a_boolean(
    emulator: LocalWorldClient,
) -> None:
    # The SDK will not send a string for a boolean; a template or a raw client can.
    uri = _uploaded(emulator, "flag.vhd")
    token = emulator.credential.token_for("https://management.azure.com/.default")
    response = requests.put(
        f"{emulator.endpoint}{lab_id(*FACTORY)}/customimages/flag?api-version=2018-09-15",
        json={"properties": {"vhd": {"imageName": uri, "sysPrep": "yes", "osType": "Linux"}}},
        headers={"Authorization": f"Bearer {token}"},
        verify=emulator.ca_file,
        timeout=30,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidParameter" and "sysPrep" in error["message"]
