"""The tags the factory puts on everything it creates. Key spelling lives here only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

FACTORY = "imagefactory-id"
FAMILY = "imagefactory-family"
VERSION = "imagefactory-version"
DEFINITION_HASH = "imagefactory-hash"
BASE = "imagefactory-base"
COMMIT = "imagefactory-commit"
BUILD_ID = "imagefactory-build"
CREATED_AT = "imagefactory-created"
EXPIRES_AT = "imagefactory-expires"
ROLE = "imagefactory-role"
RUN = "imagefactory-run"
PREFIX = "imagefactory-"

ALL = (
    FACTORY,
    FAMILY,
    VERSION,
    DEFINITION_HASH,
    BASE,
    COMMIT,
    BUILD_ID,
    CREATED_AT,
    EXPIRES_AT,
    ROLE,
    RUN,
)


def get(tags: Mapping[str, str] | None, key: str) -> str | None:
    """A tag value by key, matching the key case-insensitively as Azure does."""
    if not tags:
        return None
    if key in tags:
        return tags[key]
    for name, value in tags.items():
        if name.lower() == key.lower():
            return value
    return None


def parse_time(value: str | None) -> datetime | None:
    """A timestamp tag; one without a zone is UTC, one that is not a time is None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def expired(tags: Mapping[str, str] | None, now: datetime) -> bool:
    """The resource's expiry tag is a time, and it has come (no tag: it never expires)."""
    expiry = parse_time(get(tags, EXPIRES_AT))
    return expiry is not None and expiry <= now


def owned_by(tags: Mapping[str, str] | None, factory_id: str) -> bool:
    """True only for resources carrying this factory's id: nothing else is ever changed."""
    value = get(tags, FACTORY)
    return value is not None and value.lower() == factory_id.lower()
