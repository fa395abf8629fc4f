"""A build that meets Azure's failures: a deployment refused for capacity is reported with
ARM's own error; a VM that will not be deleted does not throw away a good capture; a build
VM left behind by a run that has ended neither blocks its family nor waits for its TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.config.loading import load_directory
from shared.model import tags
from tests.pipeline.conftest import World, completed_run
from tests.pipeline.test_end_to_end import _family_images, _labs
from tests.pipeline.world import EXAMPLE, FactoryHost

FACTORY = load_directory(EXAMPLE)
ORPHAN = "w22base-0rphan"

FAULTS = [
    {
        "kind": "fail_operation",
        "operation": "Microsoft.DevTestLab/labs/virtualmachines/write",
        "path_contains": "/virtualmachines/ubuntu2204base-",
        "code": "AllocationFailed",
        "message": "Allocation failed. We do not have sufficient capacity for the requested "
        "VM size in this region.",
    },
    {
        "kind": "fail_operation",
        "operation": "Microsoft.DevTestLab/labs/virtualmachines/delete",
        "path_contains": "/virtualmachines/ubuntu2404docker-",
        "code": "InternalServerError",
        "message": "The VM could not be deleted.",
    },
]


def _orphan_of_an_ended_run(world: World) -> None:
    """A build VM of this factory whose run is over (Durable knows no such run), still
    far from its expiry."""
    world.make_vm(
        FACTORY.settings.factory_lab,
        ORPHAN,
        {
            tags.FACTORY: FACTORY.settings.factory_id,
            tags.FAMILY: "win2022-base",
            tags.ROLE: "build",
            tags.RUN: "push-0123456789abcdef0123456789abcdef01234567",
            tags.BUILD_ID: "win2022-base-20200101000000-00000000",
            tags.EXPIRES_AT: (datetime.now(UTC) + timedelta(hours=20)).isoformat(),
        },
    )


def test_build_failures_keep_their_cause_and_their_capture(
    fresh_world: World, tmp_path: Path
) -> None:
    _orphan_of_an_ended_run(fresh_world)
    for fault in FAULTS:
        fresh_world.admin("POST", "faults", fault)
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, tmp_path / "host")
    report = completed_run(host)["report"]

    failed = {f["family"]: f for f in report["failed"] if not f["lab"]}
    # The deployment's cause, from ARM's operation error, under the step that failed.
    assert set(failed) == {"ubuntu2204-base"}, failed
    assert failed["ubuntu2204-base"]["step"] == "create build VM"
    assert "AllocationFailed" in failed["ubuntu2204-base"]["reason"], failed
    assert "sufficient capacity" in failed["ubuntu2204-base"]["reason"], failed

    # A build VM that would not go: the image is delivered, the VM is a warning.
    built = {b["family"] for b in report["built"]}
    assert "ubuntu2404-docker" in built, report["failed"]
    assert any("ubuntu2404docker-" in w and "not deleted" in w for w in report["warnings"]), report[
        "warnings"
    ]
    labs = _labs(fresh_world)
    assert len(_family_images(labs["dev-weu"], "ubuntu2404-docker")) == 1

    # The ended run's VM did not hold its family back, and it is cleaned up now.
    assert "win2022-base" in built, report["plan"]["skips"]
    cleanups = {c["vmName"]: c["reason"] for c in report["plan"]["cleanups"]}
    assert "has ended" in cleanups.get(ORPHAN, ""), cleanups
    assert ORPHAN not in labs["factory-lab"]["vms"] or (
        labs["factory-lab"]["vms"][ORPHAN]["phase"] == "deleting"
    )
