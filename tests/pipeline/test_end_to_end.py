"""The example factory end to end: emulator + Azurite + devhost + the real function_app.py.

One world, several runs in order, as an operator would live them: the first run builds
and distributes everything; an unchanged run writes nothing; a changed definition
rebuilds itself and its layered child only; forced rebuilds push old versions out
through the retirement queue; a hand-made image survives it all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.devtestlabs.models import CustomImage, CustomImagePropertiesCustom

from shared.config.loading import load_directory
from shared.model import tags
from shared.model.arm_ids import parse_lab_id
from shared.planning.plan import Plan
from shared.planning.selection import select_images
from tests.pipeline.conftest import World
from tests.pipeline.economy import arm_writes, minimum_writes
from tests.pipeline.world import FactoryHost, running_host

HAND_MADE = "golden-by-hand"


@pytest.fixture
def host(example_world: World, tmp_path: Path) -> Iterator[FactoryHost]:
    yield from running_host(example_world.info, example_world.queue_connection, tmp_path)


def _labs(world: World) -> dict[str, dict[str, Any]]:
    """Every lab of the emulator's world by name, from the admin snapshot."""
    snapshot = world.admin("GET", "state")["world"]
    return {
        lab["name"]: lab
        for sub in snapshot["subscriptions"].values()
        for group in sub["resource_groups"].values()
        for lab in group["labs"].values()
    }


def _family_images(lab: dict[str, Any], family: str) -> list[str]:
    return sorted(
        name
        for name, image in lab["images"].items()
        if image["tags"].get(tags.FAMILY) == family and image["phase"] != "deleting"
    )


def _failures(report: dict[str, Any]) -> str:
    return "\n".join(
        f"{f['family']} {f['lab']}: {f['step']}: {f['reason']}" for f in report["failed"]
    )


def _complete(host: FactoryHost, **options: Any) -> dict[str, Any]:
    status = host.wait_run(host.start_run(**options))
    assert status["status"] == "Completed", (status, host.log_tail())
    report: dict[str, Any] = status["report"]
    assert not report["failed"], _failures(report)
    return report


def _wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _place_hand_made_image(world: World, lab_id: str) -> None:
    """A custom image made by a person: no factory tags. The factory must never touch it."""
    lab = parse_lab_id(lab_id)
    vhd = world.upload_vhd(lab_id, "mine.vhd", "Windows")
    world.devtestlabs(lab.subscription).custom_images.begin_create_or_update(
        lab.resource_group,
        lab.name,
        HAND_MADE,
        CustomImage(
            tags={"owner": "a person"},
            vhd=CustomImagePropertiesCustom(image_name=vhd, sys_prep=True, os_type="Windows"),
        ),
        polling_interval=0,
    ).result()


def test_example_factory_lifecycle(example_world: World, host: FactoryHost) -> None:
    factory = load_directory(host.config_dir)
    dev_weu = factory.labs["dev-weu"].lab
    _place_hand_made_image(example_world, dev_weu)

    # 1. The first run builds every image and puts it in every lab that selects it, within
    # 5% of the fewest ARM writes its plan needs (each upload URI is one).
    example_world.admin("DELETE", "requests")
    report = _complete(host)
    plan = report["plan"]
    counts = example_world.admin("GET", "requests")
    minimum = minimum_writes(Plan.model_validate(plan), factory)
    assert minimum <= arm_writes(counts) <= minimum * 1.05, (counts["byOperation"], minimum)
    # Every build VM was deallocated by DevTest Labs' stop before its capture: sysprep and
    # deprovision leave it allocated, and the emulator, as Azure, refuses the disk grant.
    stops = counts["byOperation"]["Microsoft.DevTestLab/labs/virtualmachines/stop/action"]
    assert stops == len(plan["builds"]), stops
    assert {b["family"] for b in report["built"]} == set(factory.images)
    vm_of = {b["family"]: b["vmName"] for b in plan["builds"]}
    labs = _labs(example_world)
    for key, target in factory.labs.items():
        lab = labs[parse_lab_id(target.lab).name]
        for family in select_images(target.images, factory.images):
            names = _family_images(lab, family)
            assert len(names) == 1, (key, family, names)
            header = lab["images"][names[0]]["source_header"]
            # The VHD chains back to the build: its build VM in the factory lab, and the
            # copy made into this lab's storage.
            assert f"/labs/factory-lab/virtualmachines/{vm_of[family]}" in header, header
            assert f"imported-from-blob: {lab['storage_account']}/uploads/{names[0]}.vhd" in header
    factory_lab = labs["factory-lab"]
    assert not factory_lab["vms"], "a build VM was left behind"
    # The layered image built from its parent's image in the factory lab.
    devtools = _family_images(labs["dev-weu"], "win2022-devtools")[0]
    assert (
        "/labs/factory-lab/virtualmachines/" + vm_of["win2022-base"]
        in (labs["dev-weu"]["images"][devtools]["source_header"])
    )

    # 2. Nothing changed: no build, no copy, and not a single ARM write (PUT, PATCH, DELETE
    # or POST action: the catalog is read with the factory's identity).
    example_world.admin("DELETE", "requests")
    report = _complete(host)
    assert report["built"] == [] and report["distributed"] == []
    counts = example_world.admin("GET", "requests")
    assert arm_writes(counts) == 0, counts["byOperation"]

    # 3. One definition changes: it and its layered child rebuild, nothing else.
    definition = host.config_dir / "images" / "win2022-base.yaml"
    definition.write_text(
        definition.read_text().replace(
            "  - name: windows-7zip\n",
            "  - name: windows-7zip\n  - name: windows-notepadplusplus\n",
        )
    )
    report = _complete(host)
    assert {b["family"]: b["reason"] for b in report["plan"]["builds"]} == {
        "win2022-base": "definition changed",
        "win2022-devtools": "parent rebuilt",
    }

    # 4. Another forced rebuild: dev-weu and qa-weu keep 2 versions, data-eus 4.
    report = _complete(host, images=["win2022-base"], force=True)
    assert report["retirementsQueued"] >= 1
    newest = {b["family"]: b["version"] for b in report["plan"]["builds"]}

    def retired_down() -> bool:
        labs = _labs(example_world)
        return all(
            len(_family_images(labs[lab], "win2022-base")) == 2 for lab in ("dev-weu", "qa-weu")
        )

    _wait_for(retired_down, "dev-weu and qa-weu to keep 2 versions of win2022-base")
    labs = _labs(example_world)
    kept = _family_images(labs["dev-weu"], "win2022-base")
    assert f"win2022-base-{newest['win2022-base']}" in kept
    # The hand-made image is still there, untouched.
    assert HAND_MADE in labs["dev-weu"]["images"]
    assert labs["dev-weu"]["images"][HAND_MADE]["phase"] == "ready"
    assert not labs["factory-lab"]["vms"]
