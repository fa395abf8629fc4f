"""Rules the emulator enforces as Azure does, each through the real SDK clients.

Sources: the VM body `az lab vm create` sends (Azure/azure-cli lab recording
test_lab_vm.yaml) and the spec example VirtualMachines_CreateOrUpdate.json name the lab's
network and subnet.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator.conftest import (
    ALPHA,
    ALPHA_LAB,
    ALPHA_RG,
    FACTORY,
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
        assert (f"properties.{key}" in refused.value.error.message) == (key in missing)
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
    assert lab_id(*FACTORY).lower() in refused.value.error.message.lower()
