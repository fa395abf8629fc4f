"""Which factory-owned images a lab no longer needs. A pure function of a lab's images.

Invariants (property-tested): nothing without this factory's id is retired; pinned
versions are never retired; the newest successful version of a selected family is never
retired; at most `keep` successful versions of a selected family remain beyond pins.

Versions are ordered only by what can be checked: the `YYYYMMDDhhmmss-<8 hex>` form and
the time it names, then the created-at time. A version that fails validation (`latest`,
`zzzzzzzz`), or whose time lies beyond now plus `CLOCK_SKEW` (a skewed clock, a
hand-edited tag), is never the newest and never counts towards `keep`; retention leaves
its image alone and reports it, so a person can look.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.model import naming, tags
from shared.planning.inventory import LabImage

SUCCEEDED = "succeeded"
FAILED = "failed"
CLOCK_SKEW = timedelta(minutes=10)  # how far ahead of now a version may be dated

VersionKey = tuple[datetime, datetime, str]


def version_problem(version: str, now: datetime, created: datetime | None = None) -> str | None:
    """Why `version` may not be ordered among the others; None: it may."""
    named = naming.version_time(version)
    if named is None:
        return f"{version[:80]!r} is not a version (expected YYYYMMDDhhmmss-<8 hex digits>)"
    limit = now + CLOCK_SKEW
    if named > limit:
        return f"version {version} is dated {named.isoformat()}, after now ({now.isoformat()})"
    if created is not None and created > limit:
        return (
            f"version {version} was created at {created.isoformat()}, after now ({now.isoformat()})"
        )
    return None


def version_key(version: str, created: datetime | None = None) -> VersionKey:
    """The order of a valid version: the time it names, then when it was created."""
    named = naming.version_time(version)
    if named is None:
        raise ValueError(f"'{version}' is not a version")
    return (named, created or named, version)


@dataclass(frozen=True, kw_only=True)
class Keeping:
    """How many versions of each family stay: its own `keep`, else `default_keep`, and
    never fewer than one (the newest always stays). `now` orders what may be ordered."""

    now: datetime
    keep: Mapping[str, int] = field(default_factory=dict)
    default_keep: int = 3

    def keep_for(self, family: str) -> int:
        return max(1, self.keep.get(family, self.default_keep))


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy(Keeping):
    """What one lab keeps of this factory's images."""

    factory_id: str
    selected: frozenset[str]
    defined: frozenset[str]
    pinned: Mapping[str, frozenset[str]] = field(default_factory=dict)
    retire_removed: bool = True


@dataclass(frozen=True)
class Retire:
    image: LabImage
    family: str
    version: str
    reason: str


@dataclass(frozen=True)
class Ignored:
    """A factory image whose version cannot be ordered: left alone, and reported."""

    image: LabImage
    family: str
    reason: str

    @property
    def warning(self) -> str:
        return f"{self.image.name} ({self.family}): {self.reason}; it is never taken for the newest"


@dataclass(frozen=True)
class Retention:
    retire: list[Retire]
    ignored: list[Ignored]


def image_created(image: LabImage) -> tuple[bool, datetime | None]:
    """(valid, created-at) of an image: a created-at tag that is there must be a time."""
    value = tags.get(image.tags, tags.CREATED_AT)
    if value is None:
        return True, None
    created = tags.parse_time(value)
    return created is not None, created


def retention(images: Iterable[LabImage], policy: RetentionPolicy) -> Retention:
    by_family: dict[str, list[tuple[str, LabImage, VersionKey]]] = defaultdict(list)
    ignored: list[Ignored] = []
    for image in images:
        family, version = image.family(), image.version()
        if not tags.owned_by(image.tags, policy.factory_id) or not family or not version:
            continue  # never touch what is not provably ours
        valid, created = image_created(image)
        problem = (
            version_problem(version, policy.now, created)
            if valid
            else f"its {tags.CREATED_AT} tag is not a time"
        )
        if problem is not None:
            ignored.append(Ignored(image, family, problem))
            continue
        by_family[family].append((version, image, version_key(version, created)))

    result: list[Retire] = []
    for family, entries in sorted(by_family.items()):
        pinned = policy.pinned.get(family, frozenset())
        candidates = [(v, i) for v, i, _ in entries if v not in pinned]
        if family not in policy.defined or family not in policy.selected:
            if not policy.retire_removed:
                continue
            reason = (
                "its definition was removed"
                if family not in policy.defined
                else "this lab no longer selects the image"
            )
            result += [
                Retire(i, family, v, reason)
                for v, i in candidates
                if i.provisioning_state.lower() in (SUCCEEDED, FAILED)
            ]
            continue
        keep = policy.keep_for(family)
        newest: dict[str, VersionKey] = {}
        for version, image, key in entries:
            if image.provisioning_state.lower() == SUCCEEDED:
                newest[version] = max(key, newest.get(version, key))
        ordered = sorted(newest, key=lambda v: newest[v], reverse=True)
        kept = set(ordered[:keep])
        for version, image in sorted(candidates, key=lambda c: (c[0], c[1].name)):
            state = image.provisioning_state.lower()
            if state == FAILED:
                result.append(Retire(image, family, version, "its provisioning failed"))
            elif state == SUCCEEDED and version not in kept:
                result.append(Retire(image, family, version, f"beyond the newest {keep} kept"))
    return Retention(result, sorted(ignored, key=lambda i: i.image.name))


def images_to_retire(images: Iterable[LabImage], policy: RetentionPolicy) -> list[Retire]:
    return retention(images, policy).retire
