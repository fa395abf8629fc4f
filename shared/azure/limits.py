"""What Azure allows the factory lab, read (never changed) through the SDKs.

- the lab's `MaxVmsAllowedPerLab` policy: DevTest Labs' default policy set, the policy
  whose fact is `LabVmCount`, when it is enabled (its threshold);
- the region's vCPU quota: the Compute usage counter `cores` ("Total Regional vCPUs"),
  its limit and current value;
- each build VM size's vCPUs (`numberOfCores` of the region's VM sizes).

A limit that cannot be read is no limit here (None, with the reason): Azure still refuses
what would exceed it, and the build waits that refusal out.
"""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError

from shared.azure import clients
from shared.azure.errors import reason
from shared.azure.labs import Lab, location
from shared.planning.capacity import CORES, LAB_VM_COUNT, Capacity


def read_capacity(lab_id: str, sizes: list[str]) -> Capacity:
    lab = Lab.of(lab_id)
    problems: list[str] = []
    max_vms = None
    try:
        max_vms = _max_vms(lab)
    except HttpResponseError as exc:
        problems.append(f"the lab's VM policy: {reason(exc)}")
    limit, used, by_size = None, 0, {}
    try:
        region = location(lab)
        limit, used = _cores(lab, region)
        by_size = _vcpus(lab, region, sizes)
    except HttpResponseError as exc:
        problems.append(f"the region's vCPU quota: {reason(exc)}")
    return Capacity(
        max_vms=max_vms,
        vcpu_limit=limit,
        vcpus_used=used,
        vcpus_by_size=by_size,
        error="; ".join(problems) or None,
    )


def _max_vms(lab: Lab) -> int | None:
    for policy in lab.client.policies.list(lab.group, lab.name, "default"):
        if str(policy.fact_name or "").lower() != LAB_VM_COUNT.lower():
            continue
        if str(policy.status or "").lower() != "enabled":
            return None
        try:
            return int(float(policy.threshold or ""))
        except ValueError:
            return None
    return None


def _cores(lab: Lab, region: str) -> tuple[int | None, int]:
    compute = clients.compute(lab.id.subscription)
    for usage in compute.usage.list(region):
        if usage.name is not None and str(usage.name.value or "").lower() == CORES:
            return int(usage.limit), int(usage.current_value)
    return None, 0


def _vcpus(lab: Lab, region: str, sizes: list[str]) -> dict[str, int]:
    if not sizes:
        return {}
    wanted = {size.lower() for size in sizes}
    compute = clients.compute(lab.id.subscription)
    return {
        str(size.name): int(size.number_of_cores or 0)
        for size in compute.virtual_machine_sizes.list(region)
        if str(size.name or "").lower() in wanted
    }
