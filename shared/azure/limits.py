"""What Azure allows the factory lab, read (never changed) through the SDKs.

- the lab's `MaxVmsAllowedPerLab` policy: DevTest Labs' default policy set, the policy
  whose fact is `LabVmCount`, when it is enabled (its threshold);
- the region's vCPU quotas: the Compute usage counter `cores` ("Total Regional vCPUs")
  and each build size's VM family's counter (`standardDSv5Family`), their limits and
  current values;
- each build VM size's vCPUs and VM family, from the region's resource SKUs (the `vCPUs`
  capability and `family`).

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
    limit: int | None = None
    used = 0
    sizes_read: dict[str, tuple[int, str]] = {}
    counters: dict[str, tuple[int, int]] = {}
    try:
        region = location(lab)
        counters = _usages(lab, region)
    except HttpResponseError as exc:
        problems.append(f"the region's vCPU quotas: {reason(exc)}")
    else:
        try:
            sizes_read = _sizes(lab, region, sizes)
        except HttpResponseError as exc:  # the regional quota still holds
            problems.append(f"the build sizes' vCPUs and families: {reason(exc)}")
    if CORES in counters:
        limit, used = counters[CORES]
    wanted = {family.lower(): family for _, family in sizes_read.values() if family}
    families = {wanted[k]: v for k, v in counters.items() if k in wanted}
    return Capacity(
        max_vms=max_vms,
        vcpu_limit=limit,
        vcpus_used=used,
        vcpus_by_size={size: vcpus for size, (vcpus, _) in sizes_read.items()},
        family_by_size={size: family for size, (_, family) in sizes_read.items() if family},
        family_limits={family: quota for family, (quota, _) in families.items()},
        family_used={family: current for family, (_, current) in families.items()},
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


def _usages(lab: Lab, region: str) -> dict[str, tuple[int, int]]:
    """The region's usage counters, by lowercase name: (limit, current value)."""
    compute = clients.compute(lab.id.subscription)
    return {
        str(usage.name.value).lower(): (int(usage.limit), int(usage.current_value))
        for usage in compute.usage.list(region)
        if usage.name is not None and usage.name.value
    }


def _sizes(lab: Lab, region: str, sizes: list[str]) -> dict[str, tuple[int, str]]:
    """Each wanted size's vCPUs and VM family ("" when the SKU names none), from the
    region's resource SKUs."""
    if not sizes:
        return {}
    wanted = {size.lower() for size in sizes}
    compute = clients.compute(lab.id.subscription)
    found: dict[str, tuple[int, str]] = {}
    for sku in compute.resource_skus.list(filter=f"location eq '{region}'"):
        if sku.resource_type != "virtualMachines" or str(sku.name or "").lower() not in wanted:
            continue
        capabilities = {c.name: c.value for c in sku.capabilities or []}
        found[str(sku.name)] = (int(float(capabilities.get("vCPUs") or 0)), str(sku.family or ""))
    return found
