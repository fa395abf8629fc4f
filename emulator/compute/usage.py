"""Microsoft.Compute usages and VM sizes of a location: what the factory reads as limits.

`GET .../locations/{l}/usages` lists counters with their limits (shapes from the
azure-rest-api-specs example Usage_List and `az vm list-usage` output): `cores` ("Total
Regional vCPUs", the quota a VM create is checked against) and `virtualMachines`.
`GET .../locations/{l}/vmSizes` lists the scenario's sizes with their vCPUs
(`numberOfCores`, as VirtualMachineSizes_List). Each VM family has a counter of its own
(`standardDSv5Family`, "Standard DSv5 Family vCPUs"), a quota a create is checked against
too, and `GET .../providers/Microsoft.Compute/skus` names each size's family.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.exceptions import InvalidParameter
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
    scenario = request.core.scenario
    vms = request.core.devtestlabs.region_vms(subscription, location)
    limit = sub.vcpu_quota.get(location, sub.default_vcpu_quota)
    counters = [
        _counter("cores", "Total Regional vCPUs", sum(vm.vcpus for vm in vms), limit),
        _counter("virtualMachines", "Virtual Machines", len(vms), 25000),
    ]
    for family in sorted(set(scenario.vm_families.values())):
        used = sum(vm.vcpus for vm in vms if scenario.family_of(vm.size) == family)
        limit = sub.family_quota(location, family)
        counters.append(_counter(family, _family_title(family), used, limit))
    return ArmResponse(200, {"value": counters})


def _family_title(family: str) -> str:
    """`standardDSv5Family` -> "Standard DSv5 Family vCPUs", as `az vm list-usage` shows it."""
    core = family.removeprefix("standard").removesuffix("Family")
    return f"Standard {core} Family vCPUs"


def list_skus(request: ArmRequest) -> ArmResponse:
    """The VM sizes as resource SKUs (`GET .../providers/Microsoft.Compute/skus`, shape from
    the azure-rest-api-specs example ListAvailableResourceSkusForARegion): name, size,
    family and capabilities, one entry per size and location; `$filter=location eq
    '<location>'` names the one location."""
    request.core.subscription(request.params["subscription"])
    wanted = _filtered_location(request.query.get("$filter", ""))
    locations = [wanted] if wanted else _locations(request)
    scenario = request.core.scenario
    skus = [
        {
            "resourceType": "virtualMachines",
            "name": name,
            "tier": "Standard",
            "size": name.removeprefix("Standard_"),
            "family": scenario.family_of(name) or None,
            "locations": [location],
            "locationInfo": [{"location": location, "zones": []}],
            "capabilities": [
                {"name": "vCPUs", "value": str(vcpus)},
                {"name": "MemoryGB", "value": str(4 * vcpus)},
                {"name": "vCPUsAvailable", "value": str(vcpus)},
            ],
            "restrictions": [],
        }
        for name, vcpus in sorted(scenario.vm_sizes.items())
        for location in locations
    ]
    return ArmResponse(200, {"value": skus, "nextLink": None})


def _filtered_location(text: str) -> str:
    """The location of a `location eq '<location>'` filter ("" without one); the only filter
    the API supports."""
    if not text.strip():
        return ""
    match = re.fullmatch(r"\s*location\s+eq\s+'([^']*)'\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise InvalidParameter(
            f"The filter '{text}' is not supported: only location eq '<location>' is."
        )
    return match.group(1).replace(" ", "").lower()


def _locations(request: ArmRequest) -> list[str]:
    sub = request.core.subscription(request.params["subscription"])
    return sorted({group.location.lower() for group in sub.resource_groups.values()})


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
