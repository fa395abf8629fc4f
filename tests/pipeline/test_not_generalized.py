"""An image with `generalize: false`: no sysprep leaves the VM running, so the factory
deallocates it before capturing its disk, and its custom images are not declared
sysprepped (a generalized Windows image is)."""

from __future__ import annotations

import shutil
from pathlib import Path

from shared.model import tags
from tests.pipeline.conftest import World, completed_run
from tests.pipeline.world import EXAMPLE, FactoryHost


def test_a_windows_image_built_without_generalize_is_not_declared_sysprepped(
    fresh_world: World, tmp_path: Path
) -> None:
    work = tmp_path / "host"
    shutil.copytree(EXAMPLE, work / "config")
    definition = work / "config" / "images" / "win2022-base.yaml"
    definition.write_text(definition.read_text() + "generalize: false\n")
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, work)
    report = completed_run(host, images=["win2022-base"])["report"]
    assert not report["failed"], report["failed"]
    # The layered child (generalized as usual) follows its parent.
    assert {b["family"] for b in report["built"]} == {"win2022-base", "win2022-devtools"}
    operations = fresh_world.admin("GET", "requests")["byOperation"]
    assert operations.get("Microsoft.DevTestLab/labs/virtualmachines/stop/action", 0) >= 2, (
        operations
    )
    declared: dict[str, set[str]] = {}
    snapshot = fresh_world.admin("GET", "state")["world"]
    for sub in snapshot["subscriptions"].values():
        for group in sub["resource_groups"].values():
            for lab in group["labs"].values():
                for image in lab["images"].values():
                    family = image["tags"].get(tags.FAMILY)
                    sysprep = "declared-sysprep: yes" in image["source_header"]
                    declared.setdefault(family, set()).add("yes" if sysprep else "no")
    assert declared["win2022-base"] == {"no"}, declared
    assert declared["win2022-devtools"] == {"yes"}, declared
