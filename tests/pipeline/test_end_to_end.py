"""The example factory end to end: emulator + Azurite + devhost + the real function_app.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.arm_ids import parse_lab_id
from shared.validation import load_directory, select_images
from tests.pipeline.conftest import World
from tests.pipeline.world import EXAMPLE, FactoryHost, running_host


@pytest.fixture
def host(example_world: World, tmp_path: Path) -> Iterator[FactoryHost]:
    yield from running_host(example_world.info, example_world.queue_connection, tmp_path)


def _images(world: World, lab_id: str) -> list[dict[str, object]]:
    lab = parse_lab_id(lab_id)
    client = world.devtestlabs(lab.subscription)
    return [
        {"name": i.name, "tags": i.tags or {}, "state": i.provisioning_state}
        for i in client.custom_images.list(lab.resource_group, lab.name)
    ]


def _vms(world: World, lab_id: str) -> list[str]:
    lab = parse_lab_id(lab_id)
    client = world.devtestlabs(lab.subscription)
    return [v.name for v in client.virtual_machines.list(lab.resource_group, lab.name)]


def test_example_factory_end_to_end(example_world: World, host: FactoryHost) -> None:
    run = host.start_run()
    status = host.wait_run(run)
    assert status["status"] == "Completed", (status, host.log_tail())
    report = status["report"]
    assert not report["failed"], "\n".join(
        f"{f['family']} {f['lab']}: {f['step']}: {f['reason']}" for f in report["failed"]
    )
    factory = load_directory(EXAMPLE)
    assert {b["family"] for b in report["built"]} == set(factory.images)

    for target in factory.labs.values():
        names = {i["name"] for i in _images(example_world, target.lab)}
        for family in select_images(target.images, factory.images):
            assert any(n.startswith(f"{family}-") for n in names), (target.lab, family, names)
    assert not _vms(example_world, factory.settings.factory_lab)
