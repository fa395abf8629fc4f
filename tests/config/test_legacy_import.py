"""Microsoft's PowerShell image factory layout converts, validates and plans."""

from __future__ import annotations

from pathlib import Path

from shared.config.legacy_import import import_legacy
from shared.config.loading import load_directory
from shared.planning.inventory import Inventory
from shared.planning.plan import Trigger
from shared.planning.planner import plan
from tests.factories import NOW

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"


def test_legacy_layout_converts_validates_and_plans(tmp_path: Path) -> None:
    report = import_legacy(LEGACY, tmp_path)
    factory = load_directory(tmp_path)

    assert sorted(factory.images) == [
        "linux-ubuntu1804",
        "win2016-datacenter",
        "win2016-datacenter-sql",
        "win2016core",
    ]
    dev = factory.labs["devlab"]
    # A folder ImagePath selects exactly the images under it: not Win2016Core.json,
    # whose name merely starts with the folder's.
    assert dev.images == ["win2016-datacenter", "win2016-datacenter-sql"]
    data = factory.labs["datalab"]
    assert data.images == ["linux-ubuntu1804", "win2016core"]
    assert data.lab.endswith("/resourceGroups/rg-data/providers/Microsoft.DevTestLab/labs/DataLab")

    datacenter = factory.images["win2016-datacenter"]
    assert datacenter.os.value == "Windows"
    assert datacenter.base.gallery is not None and datacenter.base.gallery.sku == "2016-Datacenter"
    assert [(a.name, a.parameters) for a in datacenter.artifacts] == [
        ("windows-7zip", {}),
        ("windows-chocolatey", {"packages": "git,vscode"}),
    ]
    # The explicit sysprep artifact is dropped: generalize appends it last.
    sql = factory.images["win2016-datacenter-sql"]
    assert [a.name for a in sql.artifacts] == ["windows-chocolatey"] and sql.generalize

    unconverted = "\n".join(report.unconverted)
    assert "FromCustom.json: no galleryImageReference" in unconverted
    assert "Ubuntu1804.json: size" in unconverted
    assert "ImagePath 'Missing/Nothing.json' names no converted image" in unconverted
    assert "does not name the factory lab" in unconverted

    result = plan(factory, Inventory(), NOW, Trigger())
    assert len(result.builds) == 4
    assert len(result.distributions) == 4


def test_factory_lab_can_be_given(tmp_path: Path) -> None:
    lab = (
        "/subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c/resourceGroups/rg-f"
        "/providers/Microsoft.DevTestLab/labs/Factory"
    )
    report = import_legacy(LEGACY, tmp_path, factory_lab=lab)
    assert load_directory(tmp_path).settings.factory_lab == lab
    assert not any("factory lab" in line for line in report.unconverted)
