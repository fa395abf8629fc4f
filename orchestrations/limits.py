"""The run's limits: the configured concurrency and what Azure allows the factory lab. Pure.

`concurrency.builds`, `concurrency.copies` and `copiesPerSubscription` come from
factory.yaml; the room for VMs (MaxVmsAllowedPerLab less the lab's other VMs) and for
vCPUs (the region's quota less its usage, and each VM family's) from the inventory. A
build holds one VM, two with a test gate (the test VM is made while the build VM is still
being deleted), each of its definition's size and so of its VM family.
"""

from __future__ import annotations

from orchestrations.job_scheduler import Demand, Estimates, Limits, Scheduler, jobs_of
from shared.config.models import Factory
from shared.planning.capacity import Capacity
from shared.planning.inventory import Inventory
from shared.planning.plan import Plan


def run_limits(factory: Factory, capacity: Capacity, inventory: Inventory, run_id: str) -> Limits:
    concurrency = factory.settings.concurrency
    lab = inventory.lab(factory.settings.factory_lab)
    return Limits(
        builds=concurrency.builds,
        copies=concurrency.copies,
        copies_per_subscription=concurrency.copies_per_subscription,
        vms=capacity.vm_room(lab.vms if lab else [], run_id),
        vcpus=capacity.vcpu_room(),
        family_vcpus=capacity.family_room(),
    )


def build_demands(factory: Factory, plan: Plan, capacity: Capacity) -> dict[str, Demand]:
    """Each planned build's VMs, their vCPUs and VM family, by image family."""
    demands: dict[str, Demand] = {}
    for build in plan.builds:
        image = factory.images[build.family]
        vms = 2 if image.test_artifacts else 1
        demands[build.family] = Demand(
            vms=vms,
            vcpus=vms * capacity.vcpus_of(image.vm_size),
            family=capacity.family_of(image.vm_size),
        )
    return demands


def vm_sizes(factory: Factory) -> list[str]:
    """The sizes whose vCPUs the inventory reads: every definition's (read before the plan)."""
    return sorted({image.vm_size for image in factory.images.values()})


def scheduler_for(
    factory: Factory,
    plan: Plan,
    inventory: Inventory,
    capacity: Capacity,
    estimates: Estimates,
    run_id: str,
) -> Scheduler:
    """The run's jobs, each build with its demand, within the run's limits."""
    jobs = jobs_of(
        plan, factory.settings.factory_lab, estimates, build_demands(factory, plan, capacity)
    )
    return Scheduler(jobs, run_limits(factory, capacity, inventory, run_id))


def capacity_warnings(capacity: Capacity) -> list[str]:
    """The report's word when a limit could not be read (Azure still enforces it)."""
    if not capacity.error:
        return []
    return [
        f"Azure's limits on the factory lab were not all read ({capacity.error}); builds "
        "were bounded by the configured concurrency and waited out Azure's refusals"
    ]
