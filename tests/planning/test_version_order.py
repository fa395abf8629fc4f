"""Versions are ordered only by their validated form and created-at time: a malformed or
future-dated version is never the newest, never a reason to rebuild, never makes the
planner or retention retire the real newest, and is reported as a warning."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from shared.cli.plan_view import render_plan
from shared.model import naming, tags
from shared.planning.inventory import CatalogEntry, LabImage
from shared.planning.plan import Trigger
from shared.planning.planner import newest_entry, plan
from shared.planning.retention import CLOCK_SKEW, RetentionPolicy, retention
from tests.factories import (
    FACTORY_ID,
    NOW,
    built,
    factory,
    gallery,
    image,
    inventory,
    lab_id,
)

SCHEDULE = Trigger(kind="schedule")
FUTURE = naming.version_for(NOW + timedelta(days=400), "ffffffff")  # a skewed clock
MALFORMED = ["latest", "zzzzzzzz", "99999999999999-zzzzzzzz", "20261399000000-abcdef12"]


def test_version_time_takes_only_the_exact_form() -> None:
    assert naming.version_time("20261124120000-ab12cd34") == datetime(
        2026, 11, 24, 12, 0, tzinfo=UTC
    )
    for text in [
        *MALFORMED,
        "20261124120000-ab12cd34\n",  # `$` alone would let a trailing newline through
        "20261124120000-AB12CD34",
        "\uff12\uff10\uff12\uff161124120000-ab12cd34",  # digits, but not ASCII ones
        "20261124126000-ab12cd34",  # minute 60
    ]:
        assert naming.version_time(text) is None, text
    assert not naming.is_version("20261124120000-ab12cd34\n")
    assert not naming.is_version("\uff12\uff10\uff12\uff161124120000-ab12cd34")


def _entry(version: str, digest: str, created: datetime = NOW - timedelta(days=1)) -> CatalogEntry:
    return CatalogEntry(
        family="app", version=version, definition_hash=digest, base="pub/ofr/sku@1", created=created
    )


def test_a_malformed_or_future_catalog_version_is_never_the_newest_nor_a_reason_to_rebuild() -> (
    None
):
    config = factory({"app": gallery()}, {"qa": "images: [app]\nretention: {keep: 1}\n"})
    real = built(config, "app", NOW - timedelta(days=2), {"pub/ofr/sku": "1"})
    # Hand-edited or skewed entries, each with an old definition's hash.
    bogus = [_entry(v, "0" * 64) for v in [*MALFORMED, FUTURE]]
    bogus.append(_entry(naming.version_for(NOW, "eeeeeeee"), "0" * 64, NOW + timedelta(hours=3)))
    lab = lab_id("qa")
    labs = {lab: [image("app", real.version)]}
    result = plan(
        config,
        inventory([real, *bogus], labs, gallery={"pub/ofr/sku": "1"}),
        NOW,
        SCHEDULE,
    )

    assert result.builds == []  # up to date at the real newest, run after run
    assert [s.reason for s in result.skips] == [f"up to date at {real.version}"]
    assert result.distributions == [] and result.retirements == []
    for entry in bogus:
        assert any(entry.version[:80] in w for w in result.warnings), (entry, result.warnings)
    assert all("never taken for the newest" in w for w in result.warnings)
    assert newest_entry([real, *bogus], NOW) == real


def test_a_future_version_in_a_keep_1_lab_never_retires_the_new_build() -> None:
    config = factory(
        {"app": gallery()},
        {"qa": "images: [app]\nretention: {keep: 1}\n"},
        "rebuild: {maxAgeDays: 30}\n",
    )
    old = built(config, "app", NOW - timedelta(days=40), {"pub/ofr/sku": "1"})  # too old
    lab = lab_id("qa")
    labs = {lab: [image("app", old.version), image("app", FUTURE), image("app", "latest")]}
    result = plan(config, inventory([old], labs, gallery={"pub/ofr/sku": "1"}), NOW, SCHEDULE)

    [build] = result.builds
    assert [d.version for d in result.distributions] == [build.version]
    # The old version goes; the new build stays; the two unorderable ones are left alone.
    assert [(r.version, r.reason) for r in result.retirements] == [
        (old.version, "beyond the newest 1 kept")
    ]
    assert len(result.warnings) == 2
    assert any(f"app-{FUTURE}" in w and "after now" in w for w in result.warnings)
    assert any("app-latest" in w and "is not a version" in w for w in result.warnings)


def test_a_version_within_the_clock_skew_orders_normally() -> None:
    policy = RetentionPolicy(
        factory_id=FACTORY_ID,
        selected=frozenset({"app"}),
        defined=frozenset({"app"}),
        now=NOW,
        default_keep=1,
    )
    soon = naming.version_for(NOW + CLOCK_SKEW - timedelta(seconds=1), "aaaaaaaa")
    older = naming.version_for(NOW - timedelta(days=1), "bbbbbbbb")
    outcome = retention([image("app", older), image("app", soon)], policy)
    assert [r.version for r in outcome.retire] == [older]
    assert outcome.ignored == []


def test_a_future_created_at_tag_makes_a_version_unorderable() -> None:
    policy = RetentionPolicy(
        factory_id=FACTORY_ID, selected=frozenset({"app"}), defined=frozenset({"app"}), now=NOW
    )
    real = image("app", naming.version_for(NOW - timedelta(days=1), "aaaaaaaa"))
    stamped = image("app", naming.version_for(NOW - timedelta(days=2), "bbbbbbbb"))
    stamped = stamped.model_copy(
        update={"tags": {**stamped.tags, tags.CREATED_AT: (NOW + timedelta(days=9)).isoformat()}}
    )
    garbled = image("app", naming.version_for(NOW - timedelta(days=3), "cccccccc"))
    garbled = garbled.model_copy(update={"tags": {**garbled.tags, tags.CREATED_AT: "soon"}})
    outcome = retention([real, stamped, garbled], policy)
    assert outcome.retire == []
    assert sorted(i.image.name for i in outcome.ignored) == sorted([stamped.name, garbled.name])


# Property: whatever mix of valid, malformed and future-dated versions a lab holds, the
# unorderable ones are never retired and never push out the real newest.

valid_times = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 24, 12), timezones=st.just(UTC)
)
future_times = st.datetimes(
    min_value=datetime(2026, 11, 24, 12, 11), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)
hexes = st.integers(min_value=0, max_value=2**32 - 1).map(lambda h: f"{h:08x}")
good_versions = st.builds(naming.version_for, valid_times, hexes)
bad_versions = st.one_of(
    st.builds(naming.version_for, future_times, hexes),
    st.sampled_from(MALFORMED),
    st.text(min_size=1, max_size=30),
)
lab_images = st.builds(
    lambda family, version, state: image(family, version, state),
    st.sampled_from(["a", "b"]),
    st.one_of(good_versions, good_versions, bad_versions),
    st.sampled_from(["Succeeded", "Succeeded", "Failed", "Creating"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(lab_images, max_size=25),
    st.integers(min_value=1, max_value=3),
    st.sets(st.sampled_from(["a", "b"])),
)
def test_unorderable_versions_are_never_retired_and_never_outrank_the_real_newest(
    images: list[LabImage], keep: int, selected: set[str]
) -> None:
    policy = RetentionPolicy(
        factory_id=FACTORY_ID,
        selected=frozenset(selected),
        defined=frozenset({"a", "b"}),
        now=NOW,
        default_keep=keep,
    )
    outcome = retention(images, policy)
    retired = {id(r.image) for r in outcome.retire}
    bad = [
        i
        for i in images
        if (at := naming.version_time(i.version() or "")) is None or at > NOW + CLOCK_SKEW
    ]
    assert not retired & {id(i) for i in bad}
    assert {id(i.image) for i in outcome.ignored} == {id(i) for i in bad}
    for family in selected:
        good = sorted(
            {
                i.version() or ""
                for i in images
                if i.family() == family
                and i.provisioning_state == "Succeeded"
                and all(i is not b for b in bad)
            },
            reverse=True,
        )
        remaining = {
            i.version()
            for i in images
            if i.family() == family and id(i) not in retired and i.provisioning_state == "Succeeded"
        }
        # The newest `keep` valid versions stay, whatever the unorderable ones claim.
        assert set(good[:keep]) <= remaining
        assert len(set(good) & remaining) == min(keep, len(good))


def test_the_plan_shows_the_unorderable_versions_as_warnings() -> None:
    config = factory({"app": gallery()}, {"qa": "images: [app]\nretention: {keep: 1}\n"})
    labs = {lab_id("qa"): [image("app", "latest")]}
    result = plan(config, inventory([_entry("zzzzzzzz", "0" * 64)], labs), NOW, SCHEDULE)
    out = io.StringIO()
    render_plan(result, Console(file=out, width=400, color_system=None))
    text = out.getvalue()
    assert "Warnings:" in text
    assert "catalog version of app ignored: 'zzzzzzzz' is not a version" in text
    assert "app-latest (app): 'latest' is not a version" in text
