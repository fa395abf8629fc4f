"""Microsoft.Compute usages and VM sizes of a location: what the factory reads as limits.

`GET .../locations/{l}/usages` lists counters with their limits (shapes from the
azure-rest-api-specs example Usage_List and `az vm list-usage` output): `cores` ("Total
Regional vCPUs", the quota a VM create is checked against) and `virtualMachines`.
`GET .../locations/{l}/vmSizes` lists the scenario's sizes with their vCPUs
(`numberOfCores`, as VirtualMachineSizes_List).
"""

from __future__ import annotations

from typing import Any

from emulator.http import ArmRequest, ArmResponse

# The scenario names sizes and vCPUs only; the rest of a size's body is fixed.
_SIZE_DEFAULTS = {"osDiskSizeInMB": 1047552, "maxDataDiskCount": 8}


def _location(request: ArmRequest) -> str:
    return request.params["location"].replace(" ", "").lower()


def _counter(value: str, localized: str, current: int, limit: int) -> dict[str, Any]:
    return {
        "unit": "Count",
        "currentValue": current,
        "limit": limit,
        "name": {"value": value, "localizedValue": localized},
    }


def list_usages(request: ArmRequest) -> ArmResponse:
    subscription = request.params["subscription"]
    location = _location(request)
    sub = request.core.subscription(subscription)
    vms = [
        vm
        for lab in request.core.devtestlabs.labs_in_subscription(subscription)
        if lab.location.lower() == location
        for vm in lab.vms.values()
    ]
    limit = sub.vcpu_quota.get(location, sub.default_vcpu_quota)
    counters = [
        _counter("cores", "Total Regional vCPUs", sum(vm.vcpus for vm in vms), limit),
        _counter("virtualMachines", "Virtual Machines", len(vms), 25000),
    ]
    return ArmResponse(200, {"value": counters})


def list_vm_sizes(request: ArmRequest) -> ArmResponse:
    request.core.subscription(request.params["subscription"])
    sizes = [
        {
            "name": name,
            "numberOfCores": vcpus,
            "resourceDiskSizeInMB": 8192 * vcpus,
            "memoryInMB": 4096 * vcpus,
            **_SIZE_DEFAULTS,
        }
        for name, vcpus in sorted(request.core.scenario.vm_sizes.items())
    ]
    return ArmResponse(200, {"value": sizes})
