"""The run's limits from Azure: the factory lab's VM policy and its region's vCPU quotas,
the regional one and each VM family's.

Builds count the VMs they hold (a test gate's VM too) and those VMs' vCPUs; the lab's
other VMs count against the policy, this run's own (a resumed run adopts them) do not.
"""

from __future__ import annotations

from orchestrations.job_scheduler import Demand, JobId, JobSpec, Kind, Limits, Pool, Scheduler
from orchestrations.limits import build_demands, capacity_warnings, run_limits, vm_sizes
from shared.model import tags
from shared.planning.capacity import Capacity
from shared.planning.inventory import Inventory, LabInventory, LabVm
from shared.planning.plan import Trigger
from shared.planning.planner import plan as make_plan
from tests import factories as f


def _builds(*demands: tuple[int, int]) -> list[JobSpec]:
    return [
        JobSpec(JobId(Kind.BUILD, f"f{i}", "v"), Pool.BUILDS, vms=vms, vcpus=vcpus)
        for i, (vms, vcpus) in enumerate(demands)
    ]


def test_builds_wait_for_room_in_the_lab_and_the_quota() -> None:
    specs = _builds((1, 4), (1, 4), (2, 8), (1, 4))
    limits = Limits(builds=4, copies=1, copies_per_subscription=1, vms=3, vcpus=12)
    scheduler = Scheduler(specs, limits)
    first = scheduler.take()
    assert first == [specs[0].id, specs[1].id, specs[3].id]  # the gated build needs 2 more VMs
    scheduler.release(specs[0].id, True)
    assert scheduler.take() == []  # a released build's VM is still there until it is gone
    scheduler.finish(specs[0].id)
    assert scheduler.take() == []  # 2 VMs and 8 vCPUs: room for 1 VM only
    scheduler.release(specs[1].id, True)
    scheduler.finish(specs[1].id)
    assert scheduler.take() == [specs[2].id]


def test_builds_wait_for_room_in_their_vm_family_s_quota() -> None:
    """A family's quota bounds only its own builds: another family's build starts beside."""
    specs = [
        JobSpec(JobId(Kind.BUILD, name, "v"), Pool.BUILDS, vms=1, vcpus=vcpus, family=family)
        for name, vcpus, family in (
            ("a", 4, "standarddsv5family"),
            ("b", 4, "standarddsv5family"),
            ("c", 2, "standardbsfamily"),
        )
    ]
    limits = Limits(
        builds=3, copies=1, copies_per_subscription=1, vcpus=40,
        family_vcpus={"standarddsv5family": 6},
    )  # fmt: skip
    scheduler = Scheduler(specs, limits)
    assert scheduler.take() == [specs[0].id, specs[2].id]  # b: 8 DSv5 vCPUs over the 6 free
    scheduler.release(specs[0].id, True)
    scheduler.finish(specs[0].id)
    assert scheduler.take() == [specs[1].id]


def test_a_family_over_its_room_blocks_only_its_own_builds() -> None:
    """A build alone over its family's room does not hold up another family's build."""
    specs = [
        JobSpec(JobId(Kind.BUILD, "a", "v"), Pool.BUILDS, vms=1, vcpus=8, family="dsv5"),
        JobSpec(JobId(Kind.BUILD, "b", "v"), Pool.BUILDS, vms=1, vcpus=2, family="bs"),
        JobSpec(JobId(Kind.BUILD, "c", "v"), Pool.BUILDS, vms=1, vcpus=2, family="dsv5"),
    ]
    limits = Limits(
        builds=3, copies=1, copies_per_subscription=1, vcpus=100,
        family_vcpus={"dsv5": 4, "bs": 50},
    )  # fmt: skip
    scheduler = Scheduler(specs, limits)
    # a starts alone, over its family's 4; b beside it: its own family has room enough;
    # c waits for its family's room.
    assert scheduler.take() == [specs[0].id, specs[1].id]
    scheduler.release(specs[1].id, True)
    scheduler.finish(specs[1].id)
    assert scheduler.take() == []
    scheduler.release(specs[0].id, True)
    scheduler.finish(specs[0].id)
    assert scheduler.take() == [specs[2].id]


def test_a_build_larger_than_the_room_runs_alone() -> None:
    """Azure leaves less than one build needs: it starts when no other build holds a VM,
    and Azure's refusal (if the room is still short) is waited out by the build."""
    specs = _builds((1, 4), (1, 64))
    scheduler = Scheduler(specs, Limits(builds=2, copies=1, copies_per_subscription=1, vcpus=16))
    assert scheduler.take() == [specs[0].id]  # the big one does not fit beside it
    scheduler.release(specs[0].id, True)
    assert scheduler.take() == []
    scheduler.finish(specs[0].id)
    assert scheduler.take() == [specs[1].id]  # alone, though over the free vCPUs
    assert scheduler.running == [specs[1].id]


def test_limits_come_from_the_policy_the_quota_and_the_lab_s_vms() -> None:
    config = f.factory(
        {
            "small": f.gallery() + "vmSize: Standard_D2s_v5\n",
            "gated": f.gallery("s2") + "vmSize: standard_d8s_v5\ntestArtifacts: [{name: t}]\n",
        },
        {},
        "concurrency: {builds: 3}\n",
    )
    capacity = Capacity(
        max_vms=5,
        vcpu_limit=40,
        vcpus_used=6,
        vcpus_by_size={"Standard_D2s_v5": 2, "Standard_D8s_v5": 8},
        family_by_size={
            "Standard_D2s_v5": "standardDSv5Family",
            "Standard_D8s_v5": "standardDSv5Family",
        },
        family_limits={"standardDSv5Family": 20},
        family_used={"standardDSv5Family": 4},
    )
    vms = [
        LabVm(name="someone", tags={}),
        LabVm(name="another", tags={tags.RUN: "other-run"}),
        LabVm(name="mine", tags={tags.RUN: "this-run"}),
    ]
    inventory = Inventory(labs=[LabInventory(lab=f.FACTORY_LAB.upper(), vms=vms)])
    limits = run_limits(config, capacity, inventory, "this-run")
    assert (limits.builds, limits.vms, limits.vcpus) == (3, 3, 34)
    assert limits.family_vcpus == {"standarddsv5family": 16}
    plan = make_plan(config, f.inventory([]), f.NOW, Trigger())
    assert build_demands(config, plan, capacity) == {
        "small": Demand(vms=1, vcpus=2, family="standarddsv5family"),
        "gated": Demand(vms=2, vcpus=16, family="standarddsv5family"),
    }
    assert vm_sizes(config) == ["Standard_D2s_v5", "standard_d8s_v5"]
    unlimited = run_limits(config, Capacity(), inventory, "this-run")
    assert (unlimited.vms, unlimited.vcpus, unlimited.family_vcpus) == (None, None, {})


def test_a_limit_that_could_not_be_read_is_a_warning() -> None:
    assert capacity_warnings(Capacity()) == []
    (warning,) = capacity_warnings(Capacity(error="the region's vCPU quota: 403 Forbidden"))
    assert "403 Forbidden" in warning and "concurrency" in warning
