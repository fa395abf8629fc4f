"""Compute usages and VM sizes of a location, and the lab VM policy, read through the SDKs.

Shapes from azure-rest-api-specs (Microsoft.Compute 2024-07-01 examples Usage_List and
VirtualMachineSizes_List; Microsoft.DevTestLab 2018-09-15 Policies_List) and `az vm
list-usage` output: `cores` is "Total Regional vCPUs", the counter a VM create is checked
against, and its current value follows the region's VMs.
"""

from __future__ import annotations

from azure.mgmt.devtestlabs.models import GalleryImageReference, LabVirtualMachine

from tests.emulator.conftest import ALPHA, SUB1, UBUNTU_2204, lab_network
from tests.localworld import LocalWorldClient


def _cores(emulator: LocalWorldClient) -> tuple[int, int, str]:
    usages = list(emulator.compute(SUB1).usage.list("westeurope"))
    cores = next(u for u in usages if u.name.value == "cores")
    assert cores.unit == "Count"
    return int(cores.current_value), int(cores.limit), str(cores.name.localized_value)


def test_usage_counts_the_region_s_vcpus_against_its_quota(emulator: LocalWorldClient) -> None:
    used, limit, name = _cores(emulator)
    assert (limit, name) == (100, "Total Regional vCPUs")
    sizes = {
        s.name: s.number_of_cores
        for s in emulator.compute(SUB1).virtual_machine_sizes.list("westeurope")
    }
    assert sizes["Standard_D2s_v5"] == 2
    client = emulator.devtestlabs(SUB1)
    network = lab_network(ALPHA)
    vm = LabVirtualMachine(
        location="westeurope",
        size="Standard_D2s_v5",
        user_name="someone",
        password="Pa55-word-for-tests",
        gallery_image_reference=GalleryImageReference(
            **{k: v for k, v in UBUNTU_2204.items() if k != "osType"}, os_type="Linux"
        ),
        lab_virtual_network_id=network["labVirtualNetworkId"],
        lab_subnet_name=network["labSubnetName"],
    )
    client.virtual_machines.begin_create_or_update(ALPHA.group, ALPHA.name, "counted", vm).result()
    try:
        assert _cores(emulator)[0] == used + 2
    finally:
        client.virtual_machines.begin_delete(ALPHA.group, ALPHA.name, "counted").result()


def test_the_lab_vm_policy_is_the_labvmcount_fact(emulator: LocalWorldClient) -> None:
    policies = list(emulator.devtestlabs(SUB1).policies.list(ALPHA.group, ALPHA.name, "default"))
    (policy,) = policies
    assert (policy.fact_name, policy.threshold, policy.status) == ("LabVmCount", "20", "Enabled")
    assert policy.type == "Microsoft.DevTestLab/labs/policySets/policies"
