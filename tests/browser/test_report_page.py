"""The fleet report page in a real browser: it renders offline, its labs x families matrix
matches the inventory cell by cell, it fits a phone, the timeline has a bar per recorded
step, and screenshots are left in `.local/` for people to look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shared.cli.report_page import fleet, render_page
from shared.config.loading import load_directory
from shared.config.models import Factory
from shared.model import naming, tags
from shared.planning.inventory import CatalogEntry, Inventory, LabImage
from shared.planning.retention import version_key
from shared.planning.selection import select_images
from shared.run.payloads import RunReport, StepResult
from shared.run.timeline import StepSpan
from tests.browser.browser import PHONE_WIDTH, ROOT, PageReport, open_page

EXAMPLES = ROOT / "examples"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RUN_START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
WIN = "win2022-base"
NEW_HASH = "7c1e9a2b" + "5" * 56
NEW_WIN = f"20261124020000-{NEW_HASH[:8]}"
CELLS = "td[data-lab][data-family]"
BARS = ".tl-bar[data-step]"
RUNS = "table.runs tr[data-run]"
FAILURES = "table.failures tr[data-step]"
PAGE = ROOT / ".local" / "report.html"
SCREENSHOT = ROOT / ".local" / "report.png"
PHONE_SCREENSHOT = ROOT / ".local" / "report-phone.png"


def _after_the_run(factory: Factory) -> Inventory:
    """examples/inventory.json after a run rebuilt win2022-base on the newer gallery
    version: dev-weu and the factory lab have the new version, qa-weu's copy failed."""
    inventory = Inventory.model_validate_json(
        (EXAMPLES / "inventory.json").read_text(encoding="utf-8")
    )
    entry = CatalogEntry(
        family=WIN,
        version=NEW_WIN,
        definition_hash=NEW_HASH,
        base="microsoftwindowsserver/windowsserver/2022-datacenter-azure-edition@20348.2900.241110",
        commit="9b1d7e3f0a2c",
        created=RUN_START + timedelta(minutes=95),
        build_minutes=95.0,
    )
    image = LabImage(
        name=naming.image_name(WIN, NEW_WIN),
        tags={
            tags.FACTORY: factory.settings.factory_id,
            tags.FAMILY: WIN,
            tags.VERSION: NEW_WIN,
            tags.DEFINITION_HASH: NEW_HASH,
        },
    )
    gets_it = {factory.settings.factory_lab.lower(), factory.labs["dev-weu"].lab.lower()}
    labs = [
        lab.model_copy(update={"images": [*lab.images, image]})
        if lab.lab.lower() in gets_it
        else lab
        for lab in inventory.labs
    ]
    return inventory.model_copy(update={"catalog": [*inventory.catalog, entry], "labs": labs})


def _span(name: str, start: int, end: int, lab: str | None = None) -> StepSpan:
    minute = timedelta(minutes=1)
    return StepSpan(
        name=name, lab=lab, start=RUN_START + start * minute, end=RUN_START + end * minute
    )


def _runs(factory: Factory) -> list[RunReport]:
    """The latest run rebuilt win2022-base: dev-weu got it, qa-weu's copy timed out, and
    the layered win2022-devtools failed to build; the run before it had nothing to do."""
    dev, qa = factory.labs["dev-weu"].lab, factory.labs["qa-weu"].lab
    devtools = "20261124033500-3e5f7a9c"
    build_steps = [
        _span("create build VM", 0, 12),
        _span("apply artifacts", 12, 70),
        _span("generalize", 70, 78),
        _span("capture", 78, 95),
    ]
    latest = RunReport(
        instance_id="push-9b1d7e3f0a2c",
        started=RUN_START,
        ended=RUN_START + timedelta(minutes=240),
        commit="9b1d7e3f0a2c",
        trigger="push",
        built=[StepResult(family=WIN, version=NEW_WIN, ok=True, spans=build_steps)],
        distributed=[
            StepResult(
                family=WIN,
                version=NEW_WIN,
                lab=dev,
                ok=True,
                spans=[_span("copy VHD", 95, 118, dev), _span("create image", 118, 130, dev)],
            )
        ],
        failed=[
            StepResult(
                family=WIN,
                version=NEW_WIN,
                lab=qa,
                ok=False,
                step="copy VHD",
                reason="the copy did not finish within 120 minutes",
                spans=[_span("copy VHD", 95, 215, qa)],
            ),
            StepResult(
                family="win2022-devtools",
                version=devtools,
                ok=False,
                step="apply artifacts",
                reason="windows-vscode: the installer exited with code 1603",
                spans=[_span("create build VM", 110, 121), _span("apply artifacts", 121, 160)],
            ),
        ],
    )
    previous = RunReport(
        instance_id="schedule-20261123020000",
        started=RUN_START - timedelta(days=1),
        ended=RUN_START - timedelta(days=1) + timedelta(minutes=3),
        commit="4f2a9c1e7b3d",
        trigger="schedule",
    )
    return [latest, previous]


def _expected_cells(
    factory: Factory, inventory: Inventory
) -> dict[tuple[str, str], tuple[str, str]]:
    """(lab, family) -> (state, version), read from the inventory and the configuration
    alone: the newest version of this factory's succeeded images in the lab, against the
    newest version in the catalog."""
    owner = factory.settings.factory_id
    families = set(factory.images) | {e.family for e in inventory.catalog}
    held: dict[tuple[str, str], list[str]] = {}
    for found in inventory.labs:
        for image in found.images:
            family = tags.get(image.tags, tags.FAMILY)
            version = tags.get(image.tags, tags.VERSION)
            if (
                tags.get(image.tags, tags.FACTORY) == owner
                and image.provisioning_state == "Succeeded"
                and family
                and version
            ):
                held.setdefault((found.lab.lower(), family), []).append(version)
                families.add(family)
    newest = {
        f: max((e.version for e in inventory.catalog if e.family == f), key=version_key, default="")
        for f in families
    }
    parents = {i.base.image for i in factory.images.values() if i.base.image}
    wants = {
        (t.lab.lower(), f)
        for t in factory.labs.values()
        for f in select_images(t.images, factory.images)
    }
    factory_lab = factory.settings.factory_lab.lower()
    expected = {}
    for lab in [*(t.lab.lower() for t in factory.labs.values()), factory_lab]:
        for family in families:
            versions = sorted(held.get((lab, family), []), key=version_key, reverse=True)
            version = versions[0] if versions else ""
            wanted = (lab, family) in wants or (lab == factory_lab and family in parents)
            if not versions:
                state = "missing" if (lab, family) in wants else "none"
            elif not wanted:
                state = "unselected"
            else:
                state = "current" if version == (newest[family] or version) else "behind"
            expected[(lab, family)] = (state, version)
    return expected


@dataclass(frozen=True)
class Rendered:
    factory: Factory
    inventory: Inventory
    runs: list[RunReport]
    seen: PageReport


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    """The page of examples/factory after the run, left in .local/ for people to open, and
    opened once in chromium."""
    factory = load_directory(EXAMPLES / "factory")
    inventory = _after_the_run(factory)
    runs = _runs(factory)
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(render_page(fleet(factory, inventory, NOW), runs), encoding="utf-8")
    seen = open_page(
        PAGE,
        select=[CELLS, BARS, RUNS, FAILURES],
        screenshot=SCREENSHOT,
        phone_screenshot=PHONE_SCREENSHOT,
    )
    return Rendered(factory, inventory, runs, seen)


def test_the_page_loads_nothing_but_itself(rendered: Rendered) -> None:
    seen = rendered.seen
    assert set(seen.requests) == {PAGE.as_uri()}
    assert seen.errors == []
    assert seen.title == "Image factory contoso-images: fleet report"


def test_the_matrix_matches_the_inventory_cell_by_cell(rendered: Rendered) -> None:
    factory, seen = rendered.factory, rendered.seen
    cells = {
        (c.data["lab"].lower(), c.data["family"]): (c.data["state"], c.data["version"])
        for c in seen.selected[CELLS]
    }
    assert cells == _expected_cells(factory, rendered.inventory)
    qa, dev = factory.labs["qa-weu"].lab.lower(), factory.labs["dev-weu"].lab.lower()
    assert cells[(qa, WIN)] == ("behind", "20261102020000-d4b3380c")
    assert cells[(dev, WIN)] == ("current", NEW_WIN)
    assert cells[(factory.settings.factory_lab.lower(), WIN)] == ("current", NEW_WIN)
    for cell in seen.selected[CELLS]:  # what people read says the same as the attributes
        assert cell.data["version"] in cell.text
        if cell.data["state"] == "behind":
            assert "behind" in cell.text


def test_the_page_fits_a_phone_and_leaves_screenshots(rendered: Rendered) -> None:
    seen = rendered.seen
    assert not seen.phone.overflowing
    assert seen.phone.scroll_width <= PHONE_WIDTH
    assert seen.desktop.scroll_width <= seen.desktop.inner_width
    for shot in (SCREENSHOT, PHONE_SCREENSHOT):
        assert shot.read_bytes().startswith(b"\x89PNG")


def test_the_runs_and_the_timeline_of_the_latest_run(rendered: Rendered) -> None:
    runs, seen = rendered.runs, rendered.seen

    assert [(r.data["run"], r.data["outcome"]) for r in seen.selected[RUNS]] == [
        ("push-9b1d7e3f0a2c", "2 failed"),
        ("schedule-20261123020000", "nothing to do"),
    ]
    failures = {(f.data["image"], f.data["step"]) for f in seen.selected[FAILURES]}
    assert failures == {
        (f"{WIN}-{NEW_WIN}", "copy VHD"),
        ("win2022-devtools-20261124033500-3e5f7a9c", "apply artifacts"),
    }
    latest = runs[0]
    spans = {
        (f"{r.family}-{r.version}", s.name, s.lab or "", s.start.isoformat(), s.end.isoformat())
        for r in [*latest.built, *latest.distributed, *latest.failed]
        for s in r.spans
    }
    bars = {
        (b.data["image"], b.data["step"], b.data.get("lab", ""), b.data["start"], b.data["end"])
        for b in seen.selected[BARS]
    }
    assert bars == spans
    assert len(seen.selected[BARS]) == len(spans)
