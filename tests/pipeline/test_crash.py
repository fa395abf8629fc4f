"""kill -9 of devhost in the middle of a run, then a restart: the run completes with the
same end state as an uninterrupted run (no duplicated VM or image, nothing leaked)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from shared.model import tags
from tests.pipeline.conftest import World
from tests.pipeline.test_end_to_end import _labs
from tests.pipeline.world import FactoryHost


def _end_state(world: World) -> dict[str, Any]:
    """Per lab: how many live images each family has, and the factory's VMs left."""
    state: dict[str, Any] = {}
    for name, lab in _labs(world).items():
        families: dict[str, int] = {}
        for image in lab["images"].values():
            family = image["tags"].get(tags.FAMILY)
            if family and image["phase"] != "deleting":
                families[family] = families.get(family, 0) + 1
        vms = sorted(v for v, vm in lab["vms"].items() if tags.FACTORY in vm.get("tags", {}))
        state[name] = {"images": families, "vms": vms}
    return state


def _run(world: World, work: Path, kill_when: str | None) -> dict[str, Any]:
    host = FactoryHost(world.info, world.queue_connection, work).start()
    try:
        run = host.start_run()
        if kill_when is not None:
            deadline = time.monotonic() + 120
            while kill_when not in str(host.run_status(run).get("progress")):
                assert time.monotonic() < deadline, host.log_tail()
                time.sleep(0.05)
            host.kill()
            host.start()  # same state directory: devhost resumes every instance
        status = host.wait_run(run)
        assert status["status"] == "Completed", (status, host.log_tail())
        assert not status["report"]["failed"], status["report"]["failed"]
        return status["report"]
    finally:
        host.stop()


@pytest.mark.parametrize(
    "kill_when",
    [
        "build and distribute",  # builds starting
        "'vmsDeleting': 1",  # a build VM's deletion being confirmed while images are copied
    ],
)
def test_kill_during_builds_then_restart(
    fresh_world: World, tmp_path: Path, kill_when: str
) -> None:
    report = _run(fresh_world, tmp_path / "killed", kill_when=kill_when)
    assert len(report["built"]) == 4
    killed_state = _end_state(fresh_world)

    # The same configuration, uninterrupted, in a world of its own.
    from tests.pipeline.world import start_world

    runner, info = start_world(tmp_path / "clean-world")
    try:
        clean_world = World(runner, info)
        _run(clean_world, tmp_path / "clean", kill_when=None)
        assert killed_state == _end_state(clean_world)
    finally:
        runner.stop()
    for lab in killed_state.values():
        assert lab["vms"] == []
        assert all(count == 1 for count in lab["images"].values()), killed_state
