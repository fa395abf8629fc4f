"""Catalog pruning: the invariants hold over random catalogs (hypothesis), and the plan shows
each VHD to delete with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from shared.cli.plan_view import render_plan
from shared.model import naming
from shared.planning.inventory import CatalogEntry, LabInventory
from shared.planning.plan import Trigger
from shared.planning.planner import plan
from shared.planning.pruning import PruningPolicy, catalog_pruning
from shared.planning.retention import version_key, version_problem
from tests.factories import FACTORY_LAB, NOW, built, factory, gallery, image, inventory, lab_id

FAMILIES = ["a", "b", "c"]
PRUNE_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
versions = st.builds(
    lambda at, h: naming.version_for(at, f"{h:08x}"),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 2), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=2**32 - 1),
)
entries = st.builds(
    lambda family, version: CatalogEntry(
        family=family,
        version=version,
        definition_hash="h",
        base="b",
        created=naming.version_time(version) or PRUNE_NOW,
    ),
    st.sampled_from(FAMILIES),
    st.one_of(versions, versions, st.just("latest")),
)
catalogs = st.lists(entries, max_size=12)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[CatalogEntry], set[tuple[str, str]], PruningPolicy]:
    catalog = draw(catalogs)
    known = [(e.family, e.version) for e in catalog]
    held = set(draw(st.lists(st.sampled_from(known), max_size=4))) if known else set()
    pinned = frozenset(draw(st.lists(st.sampled_from(known), max_size=3))) if known else frozenset()
    policy = PruningPolicy(
        now=PRUNE_NOW,
        keep=draw(st.dictionaries(st.sampled_from(FAMILIES), st.integers(1, 4))),
        default_keep=draw(st.integers(1, 4)),
        pinned=pinned,
    )
    return catalog, held, policy


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_pruning_invariants(
    world: tuple[list[CatalogEntry], set[tuple[str, str]], PruningPolicy],
) -> None:
    catalog, held, policy = world
    pruned = catalog_pruning(catalog, held, policy)
    gone = {(p.family, p.version) for p in pruned}
    assert gone <= {(e.family, e.version) for e in catalog}
    assert not gone & held, "a version a lab holds was pruned"
    assert not gone & policy.pinned, "a pinned version was pruned"
    for family in FAMILIES:
        valid = {
            e.version: e
            for e in catalog
            if e.family == family and version_problem(e.version, PRUNE_NOW, e.created) is None
        }
        newest_first = sorted(valid, key=lambda v: version_key(v, valid[v].created), reverse=True)
        kept = set(newest_first[: policy.keep_for(family)])
        assert not {v for f, v in gone if f == family} & kept, "one of the newest kept was pruned"
        # Beyond keep, neither held nor pinned, a valid version goes; nothing else does.
        expected = {
            v
            for v in newest_first[policy.keep_for(family) :]
            if (family, v) not in held and (family, v) not in policy.pinned
        }
        assert {v for f, v in gone if f == family} == expected
    assert all(version_problem(p.version, PRUNE_NOW) is None for p in pruned)


@given(catalogs)
def test_nothing_is_pruned_while_a_lab_is_unknown(catalog: list[CatalogEntry]) -> None:
    assert catalog_pruning(catalog, None, PruningPolicy(now=PRUNE_NOW, default_keep=1)) == []


IMAGES = {"app": gallery()}


def _five_builds() -> list[CatalogEntry]:
    config = factory(IMAGES, {"dev": "images: [app]\n"})
    return [built(config, "app", NOW - timedelta(days=10 * (5 - i))) for i in range(5)]


def test_the_plan_prunes_what_no_lab_holds_beyond_keep() -> None:
    config = factory(IMAGES, {"dev": "images: [app]\nretention:\n  keep: 2\n"})
    catalog = _five_builds()
    newest = [e.version for e in catalog[-2:]]
    labs = {
        lab_id("dev"): [image("app", v) for v in newest],
        FACTORY_LAB: [],
    }
    # The factory keeps 3 in its catalog: the oldest two are in no lab and go.
    result = plan(config, inventory(catalog, labs), NOW, Trigger(kind="schedule"))
    assert [(p.version, p.blob_name) for p in result.prunes] == [
        (e.version, naming.catalog_blob_name("app", e.version)) for e in catalog[:2]
    ]
    assert {p.reason for p in result.prunes} == {
        "no lab holds it and it is beyond the newest 3 kept in the catalog"
    }
    out = StringIO()
    render_plan(result, Console(file=out, width=200))
    text = out.getvalue()
    assert "Prune from the catalog (the orphan sweep deletes):" in text
    assert f"- VHD {naming.catalog_blob_name('app', catalog[0].version)}" in text
    assert "2 to prune from the catalog." in text


def test_a_version_retired_in_this_run_is_pruned_and_a_pinned_one_is_not() -> None:
    config = factory(
        IMAGES,
        {"dev": "images: [app]\nretention:\n  keep: 1\n"},
        settings="retention:\n  keep: 1\n",
    )
    catalog = _five_builds()
    labs = {lab_id("dev"): [image("app", e.version) for e in catalog], FACTORY_LAB: []}
    result = plan(config, inventory(catalog, labs), NOW, Trigger(kind="schedule"))
    retired = {r.version for r in result.retirements}
    assert retired == {e.version for e in catalog[:-1]}
    assert {p.version for p in result.prunes} == retired

    pin = catalog[1].version
    pinned = factory(
        IMAGES,
        {"dev": f"images: [app]\nretention:\n  keep: 1\npinned:\n  app: ['{pin}']\n"},
        settings="retention:\n  keep: 1\n",
    )
    result = plan(pinned, inventory(catalog, labs), NOW, Trigger(kind="schedule"))
    assert pin not in {p.version for p in result.prunes}
    assert len(result.prunes) == 3


def test_a_lab_that_was_not_read_stops_all_pruning() -> None:
    config = factory(IMAGES, {"dev": "images: [app]\n"}, settings="retention:\n  keep: 1\n")
    catalog = _five_builds()
    newest = catalog[-1].version
    unread = inventory(catalog, {FACTORY_LAB: []})
    assert plan(config, unread, NOW, Trigger(kind="schedule")).prunes == []
    failed = inventory(catalog, {FACTORY_LAB: [], lab_id("dev"): [image("app", newest)]})
    failed = failed.model_copy(
        update={"labs": [*failed.labs[:1], LabInventory(lab=lab_id("dev"), error="403")]}
    )
    assert plan(config, failed, NOW, Trigger(kind="schedule")).prunes == []
    read = inventory(catalog, {FACTORY_LAB: [], lab_id("dev"): [image("app", newest)]})
    assert len(plan(config, read, NOW, Trigger(kind="schedule")).prunes) == 4


def test_another_factorys_image_does_not_hold_a_version() -> None:
    config = factory(IMAGES, {"dev": "images: [app]\n"}, settings="retention:\n  keep: 1\n")
    catalog = _five_builds()
    labs = {
        FACTORY_LAB: [],
        lab_id("dev"): [
            image("app", catalog[-1].version),
            image("app", catalog[0].version, owner="x"),
        ],
    }
    result = plan(config, inventory(catalog, labs), NOW, Trigger(kind="schedule"))
    assert catalog[0].version in {p.version for p in result.prunes}
