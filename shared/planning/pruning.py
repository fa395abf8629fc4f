"""Which catalog VHDs the factory no longer needs. A pure function of the catalog and of
what the labs hold.

A catalog VHD is the source of every distribution of its version. Once no lab holds that
version any more and it is beyond the versions the factory keeps, nothing will copy it
again, and it is deleted. Invariants (property-tested), the same as retirement's:

- only this factory's VHDs: the catalog is listed with this factory's id
  (`shared.planning.catalog.entry` drops every other blob), and nothing else is an input;
- never a pinned version (a lab may ask for it again at any time);
- never the newest valid version of a family, and never one of the newest `keep`;
- never a version any lab holds (in any state), nor one distributed in this run;
- nothing at all while a lab that the configuration names could not be read: what it
  holds is unknown;
- a version that cannot be ordered (malformed, dated in the future) is left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shared.planning.inventory import CatalogEntry
from shared.planning.retention import Keeping, version_key, version_problem

Version = tuple[str, str]  # (family, version)


@dataclass(frozen=True, kw_only=True)
class PruningPolicy(Keeping):
    """What the catalog keeps: `Keeping` per family, and every version a lab pins."""

    pinned: frozenset[Version] = frozenset()


@dataclass(frozen=True)
class Prune:
    family: str
    version: str
    reason: str


def catalog_pruning(
    catalog: Iterable[CatalogEntry], held: Iterable[Version] | None, policy: PruningPolicy
) -> list[Prune]:
    """The catalog versions to delete. `held`: every (family, version) some lab holds or
    receives in this run; None when a lab could not be read (then nothing is pruned)."""
    if held is None:
        return []
    holding = set(held)
    by_family: dict[str, dict[str, CatalogEntry]] = defaultdict(dict)
    for entry in catalog:
        if version_problem(entry.version, policy.now, entry.created) is not None:
            continue  # cannot be ordered: never pruned, never taken for the newest
        by_family[entry.family][entry.version] = entry
    result: list[Prune] = []
    for family, versions in sorted(by_family.items()):
        keep = policy.keep_for(family)
        newest_first = sorted(
            versions.values(), key=lambda e: version_key(e.version, e.created), reverse=True
        )
        for entry in newest_first[keep:]:
            if (family, entry.version) in policy.pinned or (family, entry.version) in holding:
                continue
            result.append(
                Prune(
                    family,
                    entry.version,
                    f"no lab holds it and it is beyond the newest {keep} kept in the catalog",
                )
            )
    return sorted(result, key=lambda p: (p.family, p.version))


def pinned_versions(pins: Iterable[Mapping[str, Iterable[str]]]) -> frozenset[Version]:
    """Every (family, version) any lab pins."""
    return frozenset((family, v) for pin in pins for family, vs in pin.items() for v in vs)
