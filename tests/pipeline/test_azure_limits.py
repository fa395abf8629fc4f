"""Azure's limits on the factory lab hold through a run, asserted from the emulator's own
operation times: the lab's MaxVmsAllowedPerLab policy and its region's vCPU quota, read by
the inventory, bound the builds the scheduler starts (each build counts its VMs, a test
gate's too, and their vCPUs), and Azure's refusals of a VM for want of room (a quota
fault refuses the first creates) are waited out, not failures. So is a VM that Azure
accepted and whose deployment then found no room: the failed VM is deleted and the VM
asked for again. A VM family's quota (every example size is a DSv5) bounds the builds the
same way, read from the family's usage counter and the sizes' resource SKUs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from emulator.runner import LocalWorld
from emulator.scenario import LabPolicies, load_scenario
from tests.pipeline.conftest import World, completed_run
from tests.pipeline.world import CLOCK_SCALE, EXAMPLE, SCENARIO, FactoryHost

MAX_VMS, VCPUS = 3, 16
# vCPUs of each build VM, by its name's prefix (the example's vmSize per definition).
VCPUS_OF = {"ubuntu2204base": 2, "ubuntu2404docker": 4, "w22base": 4, "w22dev": 8}
FACTORY_LAB = "/labs/factory-lab/virtualmachines/"
FACTORY_SUB = "6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c"
REFUSED = 2


@dataclass(frozen=True)
class Life:
    vm: str
    vcpus: int
    start: datetime
    end: datetime


def _at_once(lives: list[Life], weight: bool) -> int:
    events = sorted(
        [(life.start, 1, life.vcpus if weight else 1) for life in lives]
        + [(life.end, -1, life.vcpus if weight else 1) for life in lives]
    )
    most = current = 0
    for _, sign, amount in events:
        current += sign * amount
        most = max(most, current)
    return most


def _lives(world: World, vcpus_of: dict[str, int] = VCPUS_OF) -> list[Life]:
    """Each factory lab VM's life, from its create's start to its delete's end."""
    operations = world.admin("GET", "state")["world"]["operations"].values()
    by_vm: dict[str, list[dict[str, str]]] = {}
    for op in operations:
        resource = op["resource_id"].lower()
        if FACTORY_LAB in resource:
            by_vm.setdefault(resource.rsplit("/", 1)[1], []).append(op)
    lives = []
    for vm, ops in by_vm.items():
        created = [datetime.fromisoformat(o["start"]) for o in ops if o["name"] == "create"]
        deleted = [
            datetime.fromisoformat(o["end"]) for o in ops if o["name"] == "delete" and o["end"]
        ]
        assert created and deleted, (vm, ops)
        lives.append(Life(vm, vcpus_of[vm.rsplit("-", 1)[0]], min(created), max(deleted)))
    return lives


def test_the_lab_policy_and_the_vcpu_quota_hold(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIO)
    for sub in scenario.subscriptions:
        for group in sub.resource_groups:
            for lab in group.labs:
                if lab.name == "factory-lab":
                    lab.policies = LabPolicies(max_vms_allowed_per_lab=MAX_VMS)
    runner = LocalWorld(scenario=scenario, state_dir=tmp_path / "world", clock_scale=CLOCK_SCALE)
    info = runner.start()
    try:
        world = World(runner, info)
        world.admin(
            "POST", "quota", {"subscription": FACTORY_SUB, "location": "westeurope", "vcpus": VCPUS}
        )
        world.admin(
            "POST",
            "faults",
            {"kind": "quota", "path_contains": FACTORY_LAB, "count": REFUSED},
        )
        work = tmp_path / "host"
        shutil.copytree(EXAMPLE, work / "config")
        report = completed_run(FactoryHost(info, world.queue_connection, work))["report"]
        assert not report["failed"], report["failed"]
        assert len(report["built"]) == 4 and len(report["distributed"]) == 8

        lives = _lives(world)
        assert len(lives) == 6  # four build VMs and two test gates' VMs
        assert _at_once(lives, weight=False) <= MAX_VMS
        assert _at_once(lives, weight=True) <= VCPUS
        # Azure refused only the creates the fault refused (the builds waited and asked
        # again): the scheduler itself never asked for a VM the limits had no room for.
        assert world.admin("GET", "requests")["byStatus"].get("409", 0) == REFUSED
    finally:
        runner.stop()


# A lab VM's deployment failing for want of vCPU quota, as ARM reports a deployment's
# failure: the cause nested in `details` (the shape of the failures DevTest Labs users
# post, e.g. MicrosoftDocs/azure-docs#58344, with the quota error Compute gives).
NO_ROOM_IN_DEPLOYMENT = {
    "kind": "fail_operation",
    "operation": "Microsoft.DevTestLab/labs/virtualmachines/write",
    "path_contains": FACTORY_LAB + "ubuntu2204base-",
    "count": 1,
    "code": "ResourceDeploymentFailure",
    "message": "The resource operation completed with terminal provisioning state 'Failed'.",
    "details": [
        {
            "code": "QuotaExceeded",
            "message": "Operation could not be completed as it results in exceeding approved "
            "standardDSv3Family Cores quota. Location: westeurope, Current Limit: 10, "
            "Current Usage: 8, Additional Required: 2, (Minimum) New Limit Required: 10.",
        }
    ],
}


def test_a_vm_whose_deployment_found_no_room_is_deleted_and_asked_again(
    fresh_world: World, tmp_path: Path
) -> None:
    fresh_world.admin("POST", "faults", NO_ROOM_IN_DEPLOYMENT)
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, tmp_path / "host")
    report = completed_run(host)["report"]
    assert not report["failed"], report["failed"]
    assert "ubuntu2204-base" in {b["family"] for b in report["built"]}

    operations = fresh_world.admin("GET", "state")["world"]["operations"].values()
    build_vm = sorted(
        (op["start"], op["name"], op["status"])
        for op in operations
        if FACTORY_LAB + "ubuntu2204base-" in op["resource_id"].lower()
    )
    # The first create failed; the VM was deleted before the second create, which held.
    assert [(name, status) for _, name, status in build_vm[:3]] == [
        ("create", "Failed"),
        ("delete", "Succeeded"),
        ("create", "Succeeded"),
    ], build_vm


# Every example size is a Standard_D*s_v5: one family, standardDSv5Family. With the
# devtools image on 4 vCPUs, every build fits the family's 8 (a gated one holds two VMs),
# but the first three builds at once (2 + 4 + 4 vCPUs) do not.
FAMILY_VCPUS = 8


def test_a_vm_family_s_quota_bounds_the_builds(fresh_world: World, tmp_path: Path) -> None:
    fresh_world.admin(
        "POST",
        "quota",
        {
            "subscription": FACTORY_SUB,
            "location": "westeurope",
            "family": "standardDSv5Family",
            "vcpus": FAMILY_VCPUS,
        },
    )
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, tmp_path / "host")
    devtools = host.config_dir / "images" / "win2022-devtools.yaml"
    text = devtools.read_text()
    assert "vmSize: Standard_D8s_v5" in text
    devtools.write_text(text.replace("vmSize: Standard_D8s_v5", "vmSize: Standard_D4s_v5"))
    report = completed_run(host)["report"]
    assert not report["failed"], report["failed"]
    assert len(report["built"]) == 4 and not report["warnings"], report["warnings"]
    lives = _lives(fresh_world, {**VCPUS_OF, "w22dev": 4})
    assert _at_once(lives, weight=True) <= FAMILY_VCPUS
    # The scheduler asked for no VM the family's quota had no room for (the regional
    # quota, 100, would have let the first three builds start at once).
    assert fresh_world.admin("GET", "requests")["byStatus"].get("409", 0) == 0
