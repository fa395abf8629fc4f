"""An image with `generalize: false`: no sysprep/deprovision leaves the VM running, so the
factory stops it before capturing its disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.pipeline.conftest import World
from tests.pipeline.world import EXAMPLE, FactoryHost


def test_a_running_build_vm_is_stopped_before_capture(fresh_world: World, tmp_path: Path) -> None:
    work = tmp_path / "host"
    shutil.copytree(EXAMPLE, work / "config")
    definition = work / "config" / "images" / "ubuntu2404-docker.yaml"
    definition.write_text(definition.read_text() + "generalize: false\n")
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, work).start()
    try:
        status = host.wait_run(host.start_run(images=["ubuntu2404-docker"]))
    finally:
        host.stop()
    assert status["status"] == "Completed", status
    report = status["report"]
    assert not report["failed"], report["failed"]
    assert [b["family"] for b in report["built"]] == ["ubuntu2404-docker"]
    operations = fresh_world.admin("GET", "requests")["byOperation"]
    assert operations.get("Microsoft.DevTestLab/labs/virtualmachines/stop/action", 0) >= 1, (
        operations
    )
