"""`imagefactory inventory` against the local world (real SDK clients, real HTTPS): after a
run it feeds `plan`, and the plan of the unchanged world is empty; a lab that cannot be read
is one sentence, exit 1, and its entry in the written inventory says why."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.local_settings import world_settings
from shared.azure import clients
from shared.cli.main import main
from shared.planning.inventory import Inventory
from tests.pipeline.conftest import World
from tests.pipeline.world import EXAMPLE, running_host

MISSING_LAB = (
    "/subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c/resourceGroups/rg-gone"
    "/providers/Microsoft.DevTestLab/labs/gone-weu"
)


@pytest.fixture
def reader(fresh_world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The command line reaches the world with the Function App's settings."""
    for name, value in world_settings(fresh_world.info, poll_seconds=0.1).items():
        monkeypatch.setenv(name, value)
    clients.reset()
    yield fresh_world
    clients.reset()


def test_after_a_run_the_live_inventory_plans_nothing(
    reader: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "first.json"
    assert main(["inventory", "--config", str(EXAMPLE), "--out", str(first)]) == 0
    capsys.readouterr()
    assert main(["plan", str(EXAMPLE), "--inventory", str(first), "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert len(before["builds"]) == 4, before["builds"]  # a world with nothing built yet

    for host in running_host(reader.info, reader.queue_connection, tmp_path / "host"):
        status = host.wait_run(host.start_run())
        assert status["status"] == "Completed", (status, host.log_tail())
        assert not status["report"]["failed"], status["report"]["failed"]

    after = tmp_path / "after.json"
    assert main(["inventory", "--config", str(EXAMPLE), "--out", str(after)]) == 0
    assert "0 catalog" not in capsys.readouterr().err
    inventory = Inventory.model_validate_json(after.read_text())
    assert {entry.family for entry in inventory.catalog} == {
        "win2022-base",
        "win2022-devtools",
        "ubuntu2204-base",
        "ubuntu2404-docker",
    }
    assert all(lab.error is None for lab in inventory.labs)
    assert inventory.gallery, "the gallery's newest versions are read, as a run reads them"

    assert main(["plan", str(EXAMPLE), "--inventory", str(after), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    for part in ("builds", "distributions", "retirements", "cleanups"):
        assert plan[part] == [], (part, plan[part])
    assert plan["prunes"] == [], plan["prunes"]


def test_a_lab_that_cannot_be_read_is_one_sentence_and_marked(
    reader: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "factory"
    shutil.copytree(EXAMPLE, root)
    (root / "labs" / "gone-weu.yaml").write_text(f"lab: {MISSING_LAB}\nimages: ['*']\n")
    out = tmp_path / "inventory.json"
    assert main(["inventory", "--config", str(root), "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    problems = [line for line in err if line.startswith("imagefactory: could not read")]
    assert len(problems) == 1, err
    assert "gone-weu (6f1c2a3b/rg-gone)" in problems[0] and "404" in problems[0], problems
    assert "marked with their error" in err[-1], err

    inventory = Inventory.model_validate_json(out.read_text())
    marked = {lab.lab: lab.error for lab in inventory.labs}
    assert marked.pop(MISSING_LAB), "the lab not read says why"
    assert all(error is None for error in marked.values()), marked
    assert main(["plan", str(root), "--inventory", str(out)]) == 0
    assert "the lab could not be read" in capsys.readouterr().out

    page = tmp_path / "report.html"
    assert main(["report", "--config", str(root), "--live", "--out", str(page)]) == 0
    assert "could not read the lab gone-weu" in capsys.readouterr().err
    assert "ResourceGroupNotFound" in page.read_text() or "404" in page.read_text()


def test_a_catalog_that_cannot_be_read_is_one_sentence(
    reader: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the catalog every image would look unbuilt: no inventory is written."""
    # A blob endpoint that is not a storage account's: ARM answers, refusing the path.
    monkeypatch.setenv("IMAGEFACTORY_BLOB_ENDPOINT", f"{reader.info.endpoint}/{{account}}")
    clients.reset()
    assert main(["inventory", "--config", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("imagefactory: cannot read the catalog"), err
