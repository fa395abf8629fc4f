"""Which factory-owned images a lab no longer needs. A pure function of a lab's images.

Invariants (property-tested): nothing without this factory's id is retired; pinned
versions are never retired; the newest successful version of a selected family is never
retired; at most `keep` successful versions of a selected family remain beyond pins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared import tags
from shared.inventory import LabImage

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class RetentionPolicy:
    factory_id: str
    selected: frozenset[str]
    defined: frozenset[str]
    keep: Mapping[str, int] = field(default_factory=dict)
    default_keep: int = 3
    pinned: Mapping[str, frozenset[str]] = field(default_factory=dict)
    retire_removed: bool = True

    def keep_for(self, family: str) -> int:
        return max(1, self.keep.get(family, self.default_keep))


@dataclass(frozen=True)
class Retire:
    image: LabImage
    family: str
    version: str
    reason: str


def images_to_retire(images: Iterable[LabImage], policy: RetentionPolicy) -> list[Retire]:
    by_family: dict[str, list[tuple[str, LabImage]]] = defaultdict(list)
    for image in images:
        family, version = image.family(), image.version()
        if not tags.owned_by(image.tags, policy.factory_id) or not family or not version:
            continue  # never touch what is not provably ours
        by_family[family].append((version, image))

    result: list[Retire] = []
    for family, entries in sorted(by_family.items()):
        pinned = policy.pinned.get(family, frozenset())
        candidates = [(v, i) for v, i in entries if v not in pinned]
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
        succeeded = sorted(
            {v for v, i in entries if i.provisioning_state.lower() == SUCCEEDED}, reverse=True
        )
        kept = set(succeeded[:keep])
        for version, image in sorted(candidates, key=lambda c: (c[0], c[1].name)):
            state = image.provisioning_state.lower()
            if state == FAILED:
                result.append(Retire(image, family, version, "its provisioning failed"))
            elif state == SUCCEEDED and version not in kept:
                result.append(Retire(image, family, version, f"beyond the newest {keep} kept"))
    return result
