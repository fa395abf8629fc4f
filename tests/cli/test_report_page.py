"""The fleet report page, without a browser: the matrix marks labs behind the newest, and
everything that comes from users is escaped."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

from shared.cli.report_page import CellState, cell_state, fleet, render_page
from shared.model import tags
from shared.planning.inventory import LabImage, LabInventory
from shared.run.payloads import RunReport, StepResult
from tests import factories as f

DAY = timedelta(days=1)


def _config():
    return f.factory(
        {"base": f.gallery(), "app": f.layered("base"), "other": f.gallery("sku2")},
        {"qa": "images: [base, app]\n", "dev": "images: ['*']\n"},
    )


V1, V2, V3 = "20261101020000-aaaaaaaa", "20261110020000-bbbbbbbb", "20261120020000-cccccccc"


def test_cell_state_compares_the_labs_newest_with_the_familys_newest() -> None:
    assert cell_state(True, [V2, V1], V2) is CellState.CURRENT
    assert cell_state(True, [V1], V2) is CellState.BEHIND
    assert cell_state(True, [V3], V2) is CellState.CURRENT  # newer than the catalog's newest
    assert cell_state(True, [], V2) is CellState.MISSING
    assert cell_state(False, [V1], V2) is CellState.UNSELECTED
    assert cell_state(False, [], V2) is CellState.NONE


def test_a_lab_that_holds_an_older_version_only_is_behind() -> None:
    config = _config()
    old, new = f.built(config, "base", f.NOW - 10 * DAY), f.built(config, "base", f.NOW - DAY)
    app = f.built(config, "app", f.NOW - 9 * DAY, parent_version=old.version)
    inv = f.inventory(
        [old, new, app],
        {
            f.lab_id("qa"): [f.image("base", old.version), f.image("app", app.version)],
            f.lab_id("dev"): [f.image("base", old.version), f.image("base", new.version)],
            f.FACTORY_LAB: [f.image("base", old.version)],
        },
    )

    view = fleet(config, inv, f.NOW)

    states = {(row.name, c.family): (c.state, c.version) for row in view.labs for c in row.cells}
    assert states[("qa", "base")] == (CellState.BEHIND, old.version)
    assert states[("qa", "app")] == (CellState.CURRENT, app.version)
    assert states[("qa", "other")] == (CellState.NONE, None)
    assert states[("dev", "base")] == (CellState.CURRENT, new.version)
    assert states[("dev", "other")] == (CellState.MISSING, None)
    assert states[("factory", "base")] == (CellState.BEHIND, old.version)
    base = next(family for family in view.families if family.name == "base")
    assert base.newest == new.version
    assert [v.version for v in base.versions] == [new.version, old.version]
    assert [v.labs for v in base.versions] == [1, 3]


def test_images_of_other_owners_and_failed_images_are_not_held() -> None:
    config = _config()
    entry = f.built(config, "base", f.NOW - DAY)
    inv = f.inventory(
        [entry],
        {
            f.lab_id("qa"): [
                f.image("base", entry.version, owner="someone-else"),
                f.image("base", entry.version, state="Failed"),
            ]
        },
    )

    cells = {(r.name, c.family): c for r in fleet(config, inv, f.NOW).labs for c in r.cells}

    assert cells[("qa", "base")].state is CellState.MISSING


def test_a_lab_that_could_not_be_read_is_unknown_not_missing() -> None:
    config = _config()
    inv = f.inventory([f.built(config, "base", f.NOW - DAY)])
    inv = inv.model_copy(update={"labs": [LabInventory(lab=f.lab_id("qa"), error="403 Forbidden")]})

    row = next(r for r in fleet(config, inv, f.NOW).labs if r.name == "qa")

    assert row.error == "403 Forbidden"
    assert {c.state for c in row.cells} == {CellState.UNKNOWN}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_everything_from_users_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    config = f.factory(
        {
            "base": f.gallery() + f"description: '{evil}'\nartifacts:\n"
            f"  - name: '{evil}'\n    parameters: {{'{evil}': '\"><img src=x onerror=alert(1)>'}}\n"
        },
        {"qa": "images: [base]\n"},
    )
    entry = f.built(config, "base", f.NOW - DAY)
    hostile = LabImage(
        name="x",
        tags={
            tags.FACTORY: "test-factory",
            tags.FAMILY: evil,
            tags.VERSION: "20261120020000-abcdef12",
        },
    )
    inv = f.inventory([entry], {f.lab_id("qa"): [f.image("base", entry.version), hostile]})
    run = RunReport(
        instance_id=evil,
        trigger="manual",
        failed=[StepResult(family="base", version=entry.version, ok=False, step=evil, reason=evil)],
    )

    page = render_page(fleet(config, inv, f.NOW), [run])

    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert evil not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_page_is_self_contained() -> None:
    config = _config()
    page = render_page(
        fleet(config, f.inventory([f.built(config, "base", f.NOW - DAY)]), f.NOW), []
    )

    assert not re.search(r"""(src|href)=["'](?!#)""", page)
    assert "<script" not in page
    assert "@import" not in page and "url(" not in page
