"""Catalog pruning end to end: after enough builds of one image, the versions no lab holds
any more and beyond the factory's keep are in the plan, and the orphan sweep (run through
devhost's admin API, as the Functions host runs a timer function on demand) deletes their
VHDs; the newest stay, and a VHD of another factory is never touched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.azure import catalog
from shared.config.loading import load_directory
from shared.model import naming
from shared.planning.selection import select_images
from tests.pipeline.conftest import World, factory_settings_for
from tests.pipeline.test_end_to_end import _complete, _family_images, _labs
from tests.pipeline.world import FactoryHost, running_host

FAMILY = "ubuntu2204-base"  # selected by qa-weu and data-eus; no layered child
BUILDS = 4
KEEP = 2


@pytest.fixture
def host(
    fresh_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FactoryHost]:
    # The test reads the catalog as the factory does (its settings point at this world).
    with factory_settings_for(fresh_world, monkeypatch):
        yield from running_host(fresh_world.info, fresh_world.queue_connection, tmp_path)


def _keep(config: Path, keep: int) -> None:
    """The factory and every lab keep `keep` versions."""
    factory = config / "factory.yaml"
    factory.write_text(factory.read_text().replace("  keep: 3\n", f"  keep: {keep}\n"))
    for lab in (config / "labs").glob("*.yaml"):
        lines = [
            f"  keep: {keep}" if line.startswith("  keep:") else line
            for line in lab.read_text().splitlines()
        ]
        lab.write_text("\n".join(lines) + "\n")


def _wait_for(condition: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_after_enough_builds_the_oldest_vhds_are_pruned(
    fresh_world: World, host: FactoryHost
) -> None:
    _keep(host.config_dir, KEEP)
    factory = load_directory(host.config_dir)
    factory_lab, factory_id = factory.settings.factory_lab, factory.settings.factory_id
    selecting = [t.lab for t in factory.labs.values() if select_images(t.images, [FAMILY])]
    foreign = naming.catalog_blob_name(FAMILY, "20260101000000-0000beef")
    fresh_world.upload_vhd(
        factory_lab,
        foreign,
        "Linux",
        {
            "imagefactoryid": "another-factory",
            "family": FAMILY,
            "version": "20260101000000-0000beef",
            "definitionhash": "0" * 64,
            "base": "x@1",
            "created": "2026-01-01T00:00:00+00:00",
        },
    )

    for _ in range(BUILDS):
        report = _complete(host, images=[FAMILY], force=True)
        assert [b["family"] for b in report["built"]] == [FAMILY]
    versions = sorted(
        e.version for e in catalog.list_entries(factory_lab, factory_id) if e.family == FAMILY
    )
    assert len(versions) == BUILDS

    def retired_down() -> bool:
        labs = _labs(fresh_world)
        return all(
            len(_family_images(labs[lab.rsplit("/", 1)[1]], FAMILY)) == KEEP for lab in selecting
        )

    _wait_for(retired_down, f"every lab to keep {KEEP} versions of {FAMILY}")

    # The plan shows the VHDs to prune, each with its reason.
    status = host.wait_run(host.start_run(dryRun=True))
    prunes = status["report"]["plan"]["prunes"]
    assert [p["version"] for p in prunes] == versions[: BUILDS - KEEP], prunes
    assert all("no lab holds it" in p["reason"] for p in prunes)

    response = requests.post(
        f"{host.url}/admin/functions/orphan_sweeper",
        json={"input": ""},
        headers={"x-functions-key": host.process.master_key if host.process else ""},
        timeout=30,
    )
    assert response.status_code == 202, response.text

    def pruned() -> bool:
        left = [e for e in catalog.list_entries(factory_lab, factory_id) if e.family == FAMILY]
        return len(left) == KEEP

    _wait_for(pruned, "the sweep to prune the catalog")
    left = sorted(
        e.version for e in catalog.list_entries(factory_lab, factory_id) if e.family == FAMILY
    )
    assert left == versions[BUILDS - KEEP :]
    assert any(
        e.version == "20260101000000-0000beef"
        for e in catalog.list_entries(factory_lab, "another-factory")
    )
    # Once the sweep is done, the plan of the unchanged world prunes nothing.
    status = host.wait_run(host.start_run(dryRun=True))
    assert status["report"]["plan"]["prunes"] == []
