"""The catalog's metadata: how a captured VHD in the factory lab's uploads container is
described, and read back as a catalog entry.

Blob metadata keys must be C# identifiers, so they differ from the resource tag keys.
"""

from __future__ import annotations

from datetime import datetime

from shared.model import tags
from shared.planning.inventory import CatalogEntry
from shared.planning.plan import Build

_FACTORY, _FAMILY, _VERSION, _HASH, _BASE, _COMMIT, _BUILD, _CREATED = (
    "imagefactoryid",
    "family",
    "version",
    "definitionhash",
    "base",
    "commit",
    "buildid",
    "created",
)
_MINUTES = "buildminutes"  # how long the build took, for the next run's critical-path order
_STEPS = "stepseconds"  # each step's seconds, `name=seconds;...`, for the next run's monitors
_MAX_STEPS = 16


def metadata(
    build: Build,
    factory_id: str,
    commit: str | None,
    created: datetime,
    build_minutes: float | None = None,
    step_seconds: dict[str, float] | None = None,
) -> dict[str, str]:
    values = {
        _FACTORY: factory_id,
        _FAMILY: build.family,
        _VERSION: build.version,
        _HASH: build.definition_hash,
        _BASE: build.base,
        _COMMIT: commit or "",
        _BUILD: build.build_id,
        _CREATED: created.isoformat(),
    }
    if build_minutes is not None:
        values[_MINUTES] = f"{build_minutes:.3f}"
    if step_seconds:
        values[_STEPS] = ";".join(f"{k}={v:.3f}" for k, v in sorted(step_seconds.items()))
    return values


def _steps(text: str | None) -> dict[str, float]:
    """Each step's seconds; what does not read as `name=seconds` (an identifier and a
    number from 0 to a year) is left out."""
    steps: dict[str, float] = {}
    for part in (text or "").split(";")[:_MAX_STEPS]:
        name, _, value = part.partition("=")
        if not name.isidentifier():
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if 0 <= seconds < 366 * 86400:
            steps[name] = seconds
    return steps


def _minutes(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 1e6 else None


def entry(meta: dict[str, str], factory_id: str) -> CatalogEntry | None:
    """The catalog entry a blob's metadata describes, if it is this factory's and complete."""
    lowered = {k.lower(): v for k, v in meta.items()}
    if lowered.get(_FACTORY, "").lower() != factory_id.lower():
        return None
    created = tags.parse_time(lowered.get(_CREATED))
    if created is None:
        return None
    try:
        return CatalogEntry(
            family=lowered[_FAMILY],
            version=lowered[_VERSION],
            definition_hash=lowered[_HASH],
            base=lowered[_BASE],
            commit=lowered.get(_COMMIT) or None,
            created=created,
            build_minutes=_minutes(lowered.get(_MINUTES)),
            step_seconds=_steps(lowered.get(_STEPS)),
        )
    except (KeyError, ValueError):
        return None
