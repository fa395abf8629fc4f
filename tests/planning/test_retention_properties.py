"""Retention invariants hold over random inventories (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.model import naming, tags
from shared.planning.inventory import LabImage
from shared.planning.retention import RetentionPolicy, images_to_retire

FACTORY_ID = "ours"
FAMILIES = ["a", "b", "c", "d"]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
versions = st.builds(
    lambda at, h: naming.version_for(at, f"{h:08x}"),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1, 12), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=2**32 - 1),
)
images = st.builds(
    lambda family, version, state, owner, tagged: LabImage(
        name=f"{family}-{version}",
        provisioning_state=state,
        tags=(
            {tags.FACTORY: owner, tags.FAMILY: family, tags.VERSION: version}
            if tagged
            else {"owner": "someone"}
        ),
    ),
    st.sampled_from(FAMILIES),
    versions,
    st.sampled_from(["Succeeded", "Succeeded", "Failed", "Creating", "Deleting"]),
    st.sampled_from([FACTORY_ID, FACTORY_ID, "OURS", "theirs"]),
    st.booleans(),
)
policies = st.builds(
    lambda selected, defined, keep, default_keep, retire_removed, pins: RetentionPolicy(
        factory_id=FACTORY_ID,
        selected=frozenset(selected),
        defined=frozenset(defined) | frozenset(selected),
        now=NOW,
        keep=keep,
        default_keep=default_keep,
        pinned={f: frozenset(v) for f, v in pins.items()},
        retire_removed=retire_removed,
    ),
    st.sets(st.sampled_from(FAMILIES)),
    st.sets(st.sampled_from(FAMILIES)),
    st.dictionaries(st.sampled_from(FAMILIES), st.integers(min_value=1, max_value=4)),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
    st.dictionaries(st.sampled_from(FAMILIES), st.sets(versions, max_size=2)),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[LabImage], RetentionPolicy]:
    inventory = draw(st.lists(images, max_size=30))
    policy = draw(policies)
    # Pin some versions that really are in the lab, too.
    extra = draw(st.lists(st.sampled_from(inventory), max_size=3)) if inventory else []
    pinned = dict(policy.pinned)
    for image in extra:
        family = image.family()
        version = image.version()
        if family and version:
            pinned[family] = pinned.get(family, frozenset()) | {version}
    return inventory, RetentionPolicy(**{**policy.__dict__, "pinned": pinned})


def _successful(images: list[LabImage], family: str) -> list[str]:
    return sorted(
        (
            i.version() or ""
            for i in images
            if _ours(i) and i.family() == family and i.provisioning_state == "Succeeded"
        ),
        reverse=True,
    )


def _ours(image: LabImage) -> bool:
    return tags.owned_by(image.tags, FACTORY_ID)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_retention_invariants(case: tuple[list[LabImage], RetentionPolicy]) -> None:
    inventory, policy = case
    retired = images_to_retire(inventory, policy)
    retired_ids = {id(r.image) for r in retired}

    for r in retired:
        # Nothing without this factory's id, nothing pinned, nothing mid-operation.
        assert _ours(r.image)
        assert r.version not in policy.pinned.get(r.family, frozenset())
        assert r.image.provisioning_state in ("Succeeded", "Failed")

    for family in policy.selected:
        succeeded = _successful(inventory, family)
        remaining = [
            i
            for i in inventory
            if _ours(i)
            and i.family() == family
            and i.provisioning_state == "Succeeded"
            and id(i) not in retired_ids
        ]
        if succeeded:
            # The newest successful version of a selected family is never retired.
            assert any(i.version() == succeeded[0] for i in remaining)
        unpinned = {
            i.version()
            for i in remaining
            if i.version() not in policy.pinned.get(family, frozenset())
        }
        assert len(unpinned) <= policy.keep_for(family)
        # ...and exactly the newest `keep` are kept (no over-eager deletion).
        assert set(succeeded[: policy.keep_for(family)]) <= {i.version() for i in remaining}

    if not policy.retire_removed:
        assert all(r.family in policy.selected for r in retired)


@settings(max_examples=200, deadline=None)
@given(st.lists(images, max_size=20), policies)
def test_retention_is_idempotent(inventory: list[LabImage], policy: RetentionPolicy) -> None:
    retired = {id(r.image) for r in images_to_retire(inventory, policy)}
    left = [i for i in inventory if id(i) not in retired]
    assert images_to_retire(left, policy) == []
