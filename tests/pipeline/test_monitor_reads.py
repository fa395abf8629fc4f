"""Monitors that know how long a step takes read its status less, never more.

A first run has nothing learned: its monitors poll from the start. Its versions record
each step's seconds; a forced rebuild of the same images then sleeps about that long
before the first read. The status reads of the build VMs (counted by the emulator) go
down, and those of the disk grants and revokes do not go up. A gated version records its
gate image's creation too, which the copies of the family then expect.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from shared.azure import catalog
from shared.config.loading import load_directory
from tests.pipeline.conftest import World, factory_settings_for
from tests.pipeline.world import EXAMPLE, FactoryHost

VM_READ = "Microsoft.DevTestLab/labs/virtualmachines/read"
DISK_OPERATION = "Microsoft.Compute/locations/DiskOperations/read"
# VM deployments long enough (seconds, not a few polls) that how a monitor waits shows.
SLOW_VMS = {
    "kind": "slow",
    "operation": "Microsoft.DevTestLab/labs/virtualmachines/write",
    "factor": 20,
}
POLL_SECONDS = "0.3"


def _reads(world: World) -> dict[str, int]:
    counted: dict[str, Any] = world.admin("GET", "requests")["byOperation"]
    return {op: int(n) for op, n in counted.items() if op.endswith("/read")}


def test_learned_durations_cut_status_reads(
    fresh_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "host"
    shutil.copytree(EXAMPLE, work / "config")
    fresh_world.admin("POST", "faults", SLOW_VMS)
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, work)
    host.values["IMAGEFACTORY_POLL_SECONDS"] = POLL_SECONDS
    host.start()
    try:
        fresh_world.admin("DELETE", "requests")
        first = host.wait_run(host.start_run())
        first_reads = _reads(fresh_world)
        fresh_world.admin("DELETE", "requests")
        again = host.wait_run(host.start_run(force=True))
        again_reads = _reads(fresh_world)
    finally:
        host.stop()
    for status in (first, again):
        assert status["status"] == "Completed", status
        assert not status["report"]["failed"], status["report"]["failed"]
        assert len(status["report"]["built"]) == 4
    # The build VMs' monitors sleep through most of each deployment and deallocation.
    assert again_reads[VM_READ] < first_reads[VM_READ] * 0.8, (first_reads, again_reads)
    # The disk grants and revokes are read no more often than before.
    assert again_reads.get(DISK_OPERATION, 0) <= first_reads[DISK_OPERATION], again_reads
    # Each version of a gated family records its gate image's creation seconds.
    factory = load_directory(work / "config")
    gated = {name for name, image in factory.images.items() if image.test_artifacts}
    settings = factory.settings
    with factory_settings_for(fresh_world, monkeypatch):
        entries = catalog.list_entries(settings.factory_lab, settings.factory_id)
    recorded = {e.family for e in entries if e.step_seconds.get("image_create", 0) > 0}
    assert gated and recorded == gated, (gated, [(e.family, e.step_seconds) for e in entries])
