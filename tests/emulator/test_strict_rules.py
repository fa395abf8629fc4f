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
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient

from emulator import vhd
from tests.emulator.conftest import (
    ALPHA,
    ALPHA_LAB,
    ALPHA_RG,
    FACTORY,
    FACTORY_LAB,
    FACTORY_RG,
    SUB1,
    UBUNTU_2204,
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
    network = next(iter(dtl.virtual_networks.list(ALPHA_RG, ALPHA_LAB, top=1)))
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    # az lab vm create sends the network id in lowercase and the subnet as listed.
    props["labVirtualNetworkId"] = network.id.lower()
    props["labSubnetName"] = network.allowed_subnets[0].lab_subnet_name
    vm = dtl.virtual_machines.begin_create_or_update(ALPHA_RG, ALPHA_LAB, "net-ok", body).result()
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
        dtl.virtual_machines.begin_create_or_update(ALPHA_RG, ALPHA_LAB, "no-net", body)
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "MissingRequiredProperties"
    for key in ("labVirtualNetworkId", "labSubnetName"):
        assert (f"properties.{key}" in str(refused.value.error.message)) == (key in missing)
    assert [vm.name for vm in dtl.virtual_machines.list(ALPHA_RG, ALPHA_LAB)] == []


def test_vm_naming_another_labs_network_is_refused(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    props.update(lab_network(FACTORY))
    with pytest.raises(HttpResponseError) as refused:
        dtl.virtual_machines.begin_create_or_update(ALPHA_RG, ALPHA_LAB, "other-net", body)
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
    uri = dtl.labs.generate_upload_uri(FACTORY_RG, FACTORY_LAB, blob_name="one.vhd").upload_uri
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
    blob.upload_blob(vhd.render([("lab-vm", "one")]), blob_type="PageBlob")
    blob.set_blob_metadata({"family": "one"})
    assert blob.get_blob_properties().metadata == {"family": "one"}
    assert blob.download_blob().readall().startswith(b"EMULATED-VHD/1\nlab-vm: one\n")


def test_upload_sas_for_one_blob_cannot_touch_another_list_or_delete(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    other = dtl.labs.generate_upload_uri(FACTORY_RG, FACTORY_LAB, blob_name="b.vhd").upload_uri
    emulator.blob_from_url(other).upload_blob(vhd.render([("lab-vm", "b")]), blob_type="PageBlob")
    uri = dtl.labs.generate_upload_uri(FACTORY_RG, FACTORY_LAB, blob_name="a.vhd").upload_uri
    emulator.blob_from_url(uri).upload_blob(vhd.render([("lab-vm", "a")]), blob_type="PageBlob")
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
    first = dtl.labs.generate_upload_uri(FACTORY_RG, FACTORY_LAB).upload_uri
    second = dtl.labs.generate_upload_uri(FACTORY_RG, FACTORY_LAB).upload_uri
    for uri in (first, second):
        path = urlsplit(uri).path
        assert path.rsplit("/", 2)[-2] == "uploads" and path.endswith(".vhd")
        assert _sas(uri)["sr"] == "b"
    assert urlsplit(first).path != urlsplit(second).path
