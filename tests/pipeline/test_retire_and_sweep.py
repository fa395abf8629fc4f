"""The retirement worker's and the orphan sweeper's logic against the emulator (real SDKs):
they delete only what carries this factory's id, and doing it twice deletes nothing twice."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.mgmt.devtestlabs.models import (
    CustomImage,
    CustomImagePropertiesCustom,
)

from shared.azure import catalog
from shared.azure.retirement import retire
from shared.azure.sweep import sweep
from shared.config.loading import load_directory
from shared.model import naming, tags
from shared.model.arm_ids import parse_lab_id
from shared.run.payloads import RetirementRequest
from tests.pipeline.conftest import World, factory_settings_for
from tests.pipeline.test_end_to_end import _labs
from tests.pipeline.world import EXAMPLE

FACTORY = load_directory(EXAMPLE)
FACTORY_ID = FACTORY.settings.factory_id
QA = FACTORY.labs["qa-weu"].lab
NOW = datetime.now(UTC)


@pytest.fixture
def configured(fresh_world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The factory's settings point at this world (as app settings would)."""
    with factory_settings_for(fresh_world, monkeypatch) as world:
        yield world


def _vhd(world: World, lab_id: str, blob: str, metadata: dict[str, str] | None = None) -> str:
    return world.upload_vhd(lab_id, blob, "Linux", metadata)


def _image(world: World, lab_id: str, name: str, image_tags: dict[str, str]) -> None:
    lab = parse_lab_id(lab_id)
    vhd = _vhd(world, lab_id, f"{name}.vhd")
    world.devtestlabs(lab.subscription).custom_images.begin_create_or_update(
        lab.resource_group,
        lab.name,
        name,
        CustomImage(
            tags=image_tags,
            vhd=CustomImagePropertiesCustom(image_name=vhd, sys_prep=False, os_type="Linux"),
        ),
        polling_interval=0,
    ).result()


def _vm(world: World, lab_id: str, name: str, vm_tags: dict[str, str]) -> None:
    world.make_vm(lab_id, name, vm_tags)


def _owned(family: str, version: str, owner: str = FACTORY_ID) -> dict[str, str]:
    return {tags.FACTORY: owner, tags.FAMILY: family, tags.VERSION: version}


def _versions(
    world: World, lab_id: str, family: str, versions: list[str], owner: str = FACTORY_ID
) -> None:
    """A custom image of each version of family in the lab, named as the factory names them."""
    for version in versions:
        _image(world, lab_id, naming.image_name(family, version), _owned(family, version, owner))


def test_retirement_keeps_the_newest_and_only_touches_its_own(configured: World) -> None:
    versions = ["20261101000000-aaaaaaaa", "20261102000000-bbbbbbbb", "20261103000000-cccccccc"]
    _versions(configured, QA, "ubuntu2204-base", versions)
    _image(
        configured,
        QA,
        "ubuntu2204-base-foreign",
        _owned("ubuntu2204-base", "20200101000000-dddddddd", "other"),
    )
    request = RetirementRequest(lab=QA, family="ubuntu2204-base")

    # qa-weu keeps 2 (its own retention), whatever a message might say.
    outcome = retire(request, FACTORY, NOW)
    assert outcome.deleted == [naming.image_name("ubuntu2204-base", versions[0])]
    assert retire(request, FACTORY, NOW).deleted == []  # idempotent: already being deleted
    images = _labs(configured)["qa-weu"]["images"]
    assert (
        "ubuntu2204-base-foreign" in images
        and images["ubuntu2204-base-foreign"]["phase"] == "ready"
    )
    for version in versions[1:]:
        assert images[naming.image_name("ubuntu2204-base", version)]["phase"] == "ready"


def test_retirement_of_an_unreadable_lab_fails_so_the_host_retries(
    configured: World, tmp_path: Path
) -> None:
    missing = QA.replace("/labs/qa-weu", "/labs/no-such-lab")
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    lab_file = config / "labs" / "qa-weu.yaml"
    lab_file.write_text(lab_file.read_text().replace(QA, missing))
    request = RetirementRequest(lab=missing, family="ubuntu2204-base")
    with pytest.raises(RuntimeError, match="cannot read lab"):
        retire(request, load_directory(config), NOW)


def test_sweeper_deletes_only_expired_vms_and_stale_blobs_of_this_factory(
    configured: World,
) -> None:
    lab = FACTORY.settings.factory_lab
    past, future = (NOW - timedelta(hours=1)).isoformat(), (NOW + timedelta(hours=5)).isoformat()
    _vm(configured, lab, "orphan-1", {**_owned("gone", "v"), tags.EXPIRES_AT: past})
    _vm(configured, lab, "busy-1", {**_owned("gone", "v"), tags.EXPIRES_AT: future})
    _vm(configured, lab, "theirs-1", {**_owned("gone", "v", "other"), tags.EXPIRES_AT: past})
    _vm(configured, lab, "person-1", {"owner": "someone"})
    removed = [f"2026110{d}000000-0000000{d}" for d in range(1, 6)]
    # Versions that cannot be ordered are left alone and never outrank the real ones.
    unorderable = ["latest", naming.version_for(NOW + timedelta(days=30), "ffffffff")]
    for version in [*removed, *unorderable]:
        meta = {
            "imagefactoryid": FACTORY_ID,
            "family": "oldfamily",
            "version": version,
            "definitionhash": "0" * 64,
            "base": "x@1",
            "commit": "",
            "buildid": naming.build_id("oldfamily", version),
            "created": NOW.isoformat(),
        }
        _vhd(configured, lab, naming.catalog_blob_name("oldfamily", version), meta)

    report = sweep(FACTORY, NOW)
    assert report.vms == [f"{lab}/orphan-1"]
    keep = FACTORY.settings.retention.keep
    assert sorted(report.blobs) == [
        naming.catalog_blob_name("oldfamily", v) for v in removed[: 5 - keep]
    ]
    vms = _labs(configured)["factory-lab"]["vms"]
    assert {"busy-1", "theirs-1", "person-1"} <= set(vms)
    assert sweep(FACTORY, NOW).blobs == []
    left = {e.version for e in catalog.list_entries(lab, FACTORY_ID) if e.family == "oldfamily"}
    assert left == {*removed[5 - keep :], *unorderable}
