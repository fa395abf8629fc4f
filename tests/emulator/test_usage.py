"""Compute usages and VM sizes of a location, and the lab VM policy, read through the SDKs.

Shapes from azure-rest-api-specs (Microsoft.Compute 2024-07-01 examples Usage_List and
VirtualMachineSizes_List; Microsoft.DevTestLab 2018-09-15 Policies_List) and `az vm
list-usage` output: `cores` is "Total Regional vCPUs", the counter a VM create is checked
against, and its current value follows the region's VMs. Each VM family has its own
counter and quota (`standardDSv5Family`), which resource SKUs name for each size
(ListAvailableResourceSkusForARegion), and a create over either quota is refused.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.devtestlabs.models import GalleryImageReference, LabVirtualMachine

from tests.emulator.conftest import ALPHA, SUB1, UBUNTU_2204, lab_network
from tests.localworld import LocalWorldClient


def _cores(emulator: LocalWorldClient) -> tuple[int, int, str]:
    usages = list(emulator.compute(SUB1).usage.list("westeurope"))
    cores = next(u for u in usages if u.name.value == "cores")
    assert cores.unit == "Count"
    return int(cores.current_value), int(cores.limit), str(cores.name.localized_value)


def _family(emulator: LocalWorldClient, family: str) -> tuple[int, int, str]:
    usages = list(emulator.compute(SUB1).usage.list("westeurope"))
    counter = next(u for u in usages if u.name.value == family)
    return int(counter.current_value), int(counter.limit), str(counter.name.localized_value)


def _vm(size: str) -> LabVirtualMachine:
    network = lab_network(ALPHA)
    return LabVirtualMachine(
        location="westeurope",
        size=size,
        user_name="someone",
        password="Pa55-word-for-tests",
        gallery_image_reference=GalleryImageReference(
            **{k: v for k, v in UBUNTU_2204.items() if k != "osType"}, os_type="Linux"
        ),
        lab_virtual_network_id=network["labVirtualNetworkId"],
        lab_subnet_name=network["labSubnetName"],
    )


def test_usage_counts_the_region_s_vcpus_against_its_quota(emulator: LocalWorldClient) -> None:
    used, limit, name = _cores(emulator)
    assert (limit, name) == (100, "Total Regional vCPUs")
    family_used, _, family_name = _family(emulator, "standardDSv5Family")
    assert family_name == "Standard DSv5 Family vCPUs"
    sizes = {
        s.name: s.number_of_cores
        for s in emulator.compute(SUB1).virtual_machine_sizes.list("westeurope")
    }
    assert sizes["Standard_D2s_v5"] == 2
    client = emulator.devtestlabs(SUB1)
    client.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "counted", _vm("Standard_D2s_v5")
    ).result()
    try:
        assert _cores(emulator)[0] == used + 2
        assert _family(emulator, "standardDSv5Family")[0] == family_used + 2
        assert _family(emulator, "standardBSFamily")[0] == 0
    finally:
        client.virtual_machines.begin_delete(ALPHA.group, ALPHA.name, "counted").result()


def test_resource_skus_name_each_size_s_family_and_vcpus(emulator: LocalWorldClient) -> None:
    skus = {
        sku.name: sku
        for sku in emulator.compute(SUB1).resource_skus.list(filter="location eq 'westeurope'")
    }
    d4 = skus["Standard_D4s_v5"]
    assert (d4.resource_type, d4.family, d4.size, d4.locations) == (
        "virtualMachines",
        "standardDSv5Family",
        "D4s_v5",
        ["westeurope"],
    )
    assert {c.name: c.value for c in d4.capabilities or []}["vCPUs"] == "4"
    assert skus["Standard_B2s"].family == "standardBSFamily"
    with pytest.raises(HttpResponseError) as refused:
        list(emulator.compute(SUB1).resource_skus.list(filter="name eq 'Standard_B2s'"))
    assert refused.value.status_code == 400


def test_a_create_over_a_family_quota_is_refused(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "quota",
        {
            "subscription": SUB1,
            "location": "westeurope",
            "family": "standardDSv5Family",
            "vcpus": 4,
        },
    )
    client = emulator.devtestlabs(SUB1)
    poller = client.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "fits", _vm("Standard_D2s_v5")
    )
    poller.result()
    with pytest.raises(HttpResponseError) as refused:
        client.virtual_machines.begin_create_or_update(
            ALPHA.group, ALPHA.name, "over", _vm("Standard_D4s_v5")
        )
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "QuotaExceeded"
    assert "standardDSv5Family Cores quota" in str(refused.value.error.message)
    # Another family's quota is its own: a B-series VM still fits.
    client.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "other", _vm("Standard_B2s")
    ).result()


def test_the_lab_vm_policy_is_the_labvmcount_fact(emulator: LocalWorldClient) -> None:
    policies = list(emulator.devtestlabs(SUB1).policies.list(ALPHA.group, ALPHA.name, "default"))
    (policy,) = policies
    assert (policy.fact_name, policy.threshold, policy.status) == ("LabVmCount", "20", "Enabled")
    assert policy.type == "Microsoft.DevTestLab/labs/policySets/policies"
