"""The planner decides builds, distributions, retirements and cleanups, each with a reason."""

from __future__ import annotations

from datetime import timedelta

from shared.model import tags
from shared.planning.inventory import LabInventory, LabVm
from shared.planning.plan import BuildReason, Trigger
from shared.planning.planner import plan
from tests.factories import (
    FACTORY_ID,
    FACTORY_LAB,
    NOW,
    built,
    everywhere,
    factory,
    gallery,
    image,
    inventory,
    lab_id,
    layered,
)


def _images(child: str) -> dict[str, str]:
    """base and other from the gallery, child layered on base (plus child's own lines),
    grandchild on child."""
    return {
        "base": gallery("s1"),
        "child": layered("base") + child,
        "grandchild": layered("child"),
        "other": gallery("s2"),
    }


CONFIG = factory(
    images=_images("artifacts:\n  - name: linux-apt-package\n"),
    labs={"alpha": "images: ['*']\n", "beta": "images: [other]\nretention: {keep: 1}\n"},
)
MANUAL = Trigger(kind="manual")
SCHEDULE = Trigger(kind="schedule")


def _steady_state(config=CONFIG, when=NOW - timedelta(days=1)):
    """The catalog and labs after a complete earlier run of the current configuration."""
    entries = []
    versions: dict[str, str] = {}
    for family in ("base", "child", "grandchild", "other"):
        if family not in config.images:
            continue
        parent = config.images[family].base.image
        entry = built(config, family, when, parent_version=versions.get(parent or ""))
        versions[family] = entry.version
        entries.append(entry)
    return entries, everywhere(config, entries)


def test_first_run_builds_everything_in_waves_and_distributes() -> None:
    result = plan(CONFIG, inventory([]), NOW, MANUAL)
    assert {b.family: b.reason for b in result.builds} == dict.fromkeys(
        ["base", "child", "grandchild", "other"], BuildReason.NEW
    )
    assert [[b.family for b in wave] for wave in result.waves()] == [
        ["base", "other"],
        ["child"],
        ["grandchild"],
    ]
    targets = {(d.family, d.lab.split("/")[-1]) for d in result.distributions}
    assert targets == {
        ("base", "alpha"),
        ("child", "alpha"),
        ("grandchild", "alpha"),
        ("other", "alpha"),
        ("other", "beta"),
        ("base", "factory"),  # parents go to the factory lab for their children
        ("child", "factory"),
    }
    assert all(d.after_build for d in result.distributions)
    assert not result.retirements and not result.cleanups


def test_nothing_changed_means_an_empty_plan() -> None:
    catalog, labs = _steady_state()
    result = plan(CONFIG, inventory(catalog, labs), NOW, SCHEDULE)
    assert result.is_empty, result
    assert {s.family for s in result.skips} == {"base", "child", "grandchild", "other"}
    assert all(s.reason.startswith("up to date") for s in result.skips)


def test_changing_one_definition_rebuilds_it_and_its_children_only() -> None:
    catalog, labs = _steady_state()
    changed = factory(
        images={
            "base": gallery("s1"),
            "child": layered("base") + "artifacts:\n  - name: linux-apt-package\n"
            "    parameters: {packages: jq}\n",
            "grandchild": layered("child"),
            "other": gallery("s2"),
        },
        labs={"alpha": "images: ['*']\n", "beta": "images: [other]\nretention: {keep: 1}\n"},
    )
    result = plan(changed, inventory(catalog, labs), NOW, MANUAL)
    reasons = {b.family: b.reason for b in result.builds}
    assert reasons == {"child": BuildReason.CHANGED, "grandchild": BuildReason.PARENT_REBUILT}
    assert [b.wave for b in result.builds] == [1, 2]
    grandchild = result.builds[1]
    assert grandchild.base == f"child@{result.builds[0].version}"


def test_a_newer_gallery_version_rebuilds_the_base_and_its_dependents() -> None:
    catalog, labs = _steady_state()
    result = plan(CONFIG, inventory(catalog, labs, gallery={"pub/ofr/s1": "2.0"}), NOW, SCHEDULE)
    reasons = {b.family: b.reason for b in result.builds}
    assert reasons == {
        "base": BuildReason.BASE_UPDATED,
        "child": BuildReason.PARENT_REBUILT,
        "grandchild": BuildReason.PARENT_REBUILT,
    }
    assert "pub/ofr/s1@latest -> pub/ofr/s1@2.0" in result.builds[0].detail


def test_old_images_rebuild_after_max_age() -> None:
    config = factory(
        images={"base": gallery("s1") + "rebuild: {maxAgeDays: 7}\n", "other": gallery("s2")},
        labs={"alpha": "images: ['*']\n"},
    )
    catalog, labs = _steady_state(config, when=NOW - timedelta(days=8))
    result = plan(config, inventory(catalog, labs), NOW, SCHEDULE)
    assert [(b.family, b.reason) for b in result.builds] == [("base", BuildReason.MAX_AGE)]
    assert "8 days old (max 7)" in result.builds[0].detail


def test_rebuild_on_change_off_keeps_the_old_version() -> None:
    catalog, labs = _steady_state()
    config = factory(
        images=_images("rebuild: {onChange: false}\n"), labs={"alpha": "images: ['*']\n"}
    )
    result = plan(config, inventory(catalog, labs), NOW, MANUAL)
    assert not result.builds
    assert any("rebuild.onChange is off" in s.reason for s in result.skips)


def test_manual_run_of_one_family_with_force() -> None:
    catalog, labs = _steady_state()
    result = plan(
        CONFIG,
        inventory(catalog, labs),
        NOW,
        Trigger(kind="manual", families=["other"], force=True),
    )
    assert [(b.family, b.reason) for b in result.builds] == [("other", BuildReason.FORCED)]
    assert {s.family for s in result.skips if "manual" in s.reason} == {
        "base",
        "child",
        "grandchild",
    }


def test_forcing_a_parent_rebuilds_its_children_too() -> None:
    catalog, labs = _steady_state()
    result = plan(
        CONFIG, inventory(catalog, labs), NOW, Trigger(kind="manual", families=["base"], force=True)
    )
    assert {b.family: b.reason for b in result.builds} == {
        "base": BuildReason.FORCED,
        "child": BuildReason.PARENT_REBUILT,
        "grandchild": BuildReason.PARENT_REBUILT,
    }


def test_missing_versions_are_distributed_and_pinned_versions_kept() -> None:
    config = factory(
        images={"other": gallery("s2")},
        labs={"alpha": "images: [other]\nretention: {keep: 1}\npinned: {other: []}\n"},
    )
    old = built(config, "other", NOW - timedelta(days=40))
    current = built(config, "other", NOW - timedelta(days=1))
    pinned_config = factory(
        images={"other": gallery("s2")},
        labs={
            "alpha": (
                f"images: [other]\nretention: {{keep: 1}}\npinned: {{other: [{old.version}]}}\n"
            )
        },
    )
    alpha = lab_id("alpha").lower()
    result = plan(pinned_config, inventory([old, current], {alpha: []}), NOW, MANUAL)
    got = {(d.version, d.reason) for d in result.distributions}
    assert got == {
        (current.version, "the lab has no version of this image yet"),
        (old.version, "pinned version missing from the lab"),
    }
    # Once both are there, keep 1 would retire the old one, but it is pinned.
    labs = {alpha: [image("other", old.version), image("other", current.version)]}
    result = plan(pinned_config, inventory([old, current], labs), NOW, MANUAL)
    assert result.is_empty
    unpinned = plan(config, inventory([old, current], labs), NOW, MANUAL)
    assert [(r.version, r.reason) for r in unpinned.retirements] == [
        (old.version, "beyond the newest 1 kept")
    ]


def test_retirement_counts_the_incoming_version_and_spares_foreign_images() -> None:
    config = factory(
        images={"other": gallery("s2")}, labs={"beta": "images: [other]\nretention: {keep: 2}\n"}
    )
    versions = [built(config, "other", NOW - timedelta(days=d)) for d in (30, 20)]
    beta = lab_id("beta").lower()
    labs = {
        beta: [
            *(image("other", e.version) for e in versions),
            image("other", "20200101000000-aaaaaaaa", owner="someone-else"),
            image("gone", "20200101000000-bbbbbbbb"),
        ]
    }
    result = plan(config, inventory(versions, labs), NOW, Trigger(kind="manual", force=True))
    retired = {(r.image_name, r.reason) for r in result.retirements}
    assert retired == {
        (f"other-{versions[0].version}", "beyond the newest 2 kept"),
        ("gone-20200101000000-bbbbbbbb", "its definition was removed"),
    }


def test_removed_images_are_kept_when_retire_removed_is_off() -> None:
    config = factory(
        images={"other": gallery("s2")},
        labs={"beta": "images: [other]\n"},
        settings="retention: {keep: 2, retireRemoved: false}\n",
    )
    beta = lab_id("beta").lower()
    result = plan(
        config, inventory([], {beta: [image("gone", "20200101000000-bbbbbbbb")]}), NOW, MANUAL
    )
    assert not result.retirements


def test_expired_build_vms_are_cleaned_up_and_live_ones_left_to_their_run() -> None:
    entries, labs = _steady_state()
    changed = factory(
        images={"base": gallery("s1") + "vmSize: Standard_D8s_v5\n", "other": gallery("s2")},
        labs={"alpha": "images: ['*']\n"},
    )
    first = plan(changed, inventory(entries, labs), NOW, MANUAL)
    build = next(b for b in first.builds if b.family == "base")

    def vm(name: str, expires: str, owner: str = FACTORY_ID) -> LabVm:
        return LabVm(
            name=name,
            tags={
                tags.FACTORY: owner,
                tags.ROLE: "build",
                tags.FAMILY: "base",
                tags.VERSION: build.version,
                tags.DEFINITION_HASH: build.definition_hash,
                tags.EXPIRES_AT: expires,
            },
        )

    factory_lab = LabInventory(
        lab=FACTORY_LAB.lower(),
        vms=[
            vm(build.vm_name, (NOW + timedelta(hours=3)).isoformat()),
            vm("old-build", (NOW - timedelta(hours=1)).isoformat()),
            vm("not-ours", (NOW - timedelta(hours=1)).isoformat(), owner="another"),
        ],
    )
    later = NOW + timedelta(minutes=30)
    inv = inventory(entries, labs)
    inv = inv.model_copy(update={"labs": [*inv.labs, factory_lab]})
    second = plan(changed, inv, later, MANUAL)
    # Another run is building "base": this run leaves it (and its VM) alone.
    assert "base" not in {b.family for b in second.builds}
    skip = next(s for s in second.skips if s.family == "base")
    assert f"is building it on VM {build.vm_name}" in skip.reason
    assert [c.vm_name for c in second.cleanups] == ["old-build"]
    # Once that VM has expired, the family is built again and the VM swept.
    much_later = NOW + timedelta(hours=4)
    third = plan(changed, inv, much_later, MANUAL)
    assert "base" in {b.family for b in third.builds}
    assert {c.vm_name for c in third.cleanups} == {"old-build", build.vm_name}


def test_unreadable_labs_are_skipped_with_the_reason() -> None:
    alpha = lab_id("alpha").lower()
    inv = inventory([])
    inv = inv.model_copy(update={"labs": [LabInventory(lab=alpha, error="403 Forbidden")]})
    result = plan(CONFIG, inv, NOW, MANUAL)
    assert not [d for d in result.distributions if d.lab.lower() == alpha]
    assert any(s.lab == lab_id("alpha") and "403 Forbidden" in s.reason for s in result.skips)


def test_the_plan_is_deterministic() -> None:
    catalog, labs = _steady_state()
    inv = inventory(catalog, labs, gallery={"pub/ofr/s1": "2.0"})
    assert plan(CONFIG, inv, NOW, SCHEDULE) == plan(CONFIG, inv, NOW, SCHEDULE)
