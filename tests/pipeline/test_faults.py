"""Faults on every side: the failing images are reported with their reasons, everything
else is delivered, no build VM is orphaned and no image is duplicated."""

from __future__ import annotations

from pathlib import Path

from shared.model import tags
from tests.pipeline.conftest import World, completed_run
from tests.pipeline.test_end_to_end import _family_images, _labs
from tests.pipeline.world import FactoryHost

FAULTS = [
    # 10% of every ARM call answers 429 (with Retry-After) or 503.
    {"kind": "throttle", "rate": 0.05, "retry_after": 0.2},
    {"kind": "error", "rate": 0.05, "status": 503, "retry_after": 0.2},
    # The layered image's build hits a failing artifact.
    {
        "kind": "artifact_failure",
        "artifact": "windows-dotnet-sdk",
        "count": 1,
        "message": "The .NET SDK installer exited with code 1603.",
    },
    # One custom image operation ends Failed.
    {
        "kind": "fail_operation",
        "operation": "Microsoft.DevTestLab/labs/customimages/write",
        "path_contains": "/labs/qa-weu/customimages/ubuntu2204-base",
        "code": "InternalOperationError",
        "message": "The image could not be created from the VHD.",
    },
    # One distribution stalls far past its timeout.
    {
        "kind": "slow",
        "operation": "Microsoft.DevTestLab/labs/customimages/write",
        "path_contains": "/labs/data-eus/customimages/ubuntu2404-docker",
        "factor": 2000,
    },
]


def test_faults_are_reported_and_contained(fresh_world: World, tmp_path: Path) -> None:
    for fault in FAULTS:
        fresh_world.admin("POST", "faults", fault)
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, tmp_path / "host")
    report = completed_run(host)["report"]

    failed = {(f["family"], (f["lab"] or "").rsplit("/", 1)[-1]): f for f in report["failed"]}
    assert set(failed) == {
        ("win2022-devtools", ""),
        ("ubuntu2204-base", "qa-weu"),
        ("ubuntu2404-docker", "data-eus"),
    }, failed
    assert failed[("win2022-devtools", "")]["step"] == "apply artifacts"
    assert "windows-dotnet-sdk failed" in failed[("win2022-devtools", "")]["reason"]
    assert "1603" in failed[("win2022-devtools", "")]["reason"]
    assert failed[("ubuntu2204-base", "qa-weu")]["reason"] == "the image ended failed"
    assert failed[("ubuntu2404-docker", "data-eus")]["reason"] == "timed out"
    skipped = {(s["family"], s["lab"].rsplit("/", 1)[-1]) for s in report["skipped"]}
    assert skipped == {("win2022-devtools", "dev-weu")}

    # Everything else is delivered, exactly once.
    labs = _labs(fresh_world)
    delivered = {
        "dev-weu": ["win2022-base", "ubuntu2404-docker"],
        "qa-weu": ["win2022-base"],
        "data-eus": ["ubuntu2204-base"],
    }
    for name, families in delivered.items():
        for family in families:
            assert len(_family_images(labs[name], family)) == 1, (name, family)
    assert not _family_images(labs["dev-weu"], "win2022-devtools")
    assert not _family_images(labs["qa-weu"], "ubuntu2204-base")
    # No build or test VM is left anywhere.
    for lab in labs.values():
        owned = [v for v in lab["vms"].values() if tags.FACTORY in v.get("tags", {})]
        assert not owned, (lab["name"], list(lab["vms"]))
    # The throttling and server errors really happened, and were ridden out.
    statuses = fresh_world.admin("GET", "requests")["byStatus"]
    assert statuses.get("429", 0) > 0 and statuses.get("503", 0) > 0, statuses
