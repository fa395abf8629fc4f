"""Names and versions, derived deterministically so every write is idempotent."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from shared.config.models import ImageDefinition, OsType

# DevTest Labs limits on lab VM names.
VM_NAME_LIMIT = {OsType.WINDOWS: 15, OsType.LINUX: 62}
VM_SUFFIX_LENGTH = 7  # "-" and six hex digits
CUSTOM_IMAGE_NAME_LIMIT = 80
_VERSION = re.compile(r"[0-9]{14}-[0-9a-f]{8}")  # ASCII digits, whole string


def version_for(built_at: datetime, definition_hash: str) -> str:
    """A UTC timestamp plus a short content hash, sortable as text: `20261124120000-ab12cd34`."""
    return f"{built_at.astimezone(UTC):%Y%m%d%H%M%S}-{definition_hash[:8]}"


def is_version(value: str) -> bool:
    return bool(_VERSION.fullmatch(value))


def version_time(value: str) -> datetime | None:
    """The UTC time a version names, or None if it is not `YYYYMMDDhhmmss-<8 hex>` with a
    real date and time (`latest`, `zzzzzzzz` and `20261399...` are not versions)."""
    if not is_version(value):
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def image_name(family: str, version: str) -> str:
    """The custom image name in a lab; also the build id and the catalog blob stem."""
    return f"{family}-{version}"


def build_id(family: str, version: str) -> str:
    return image_name(family, version)


CATALOG_PREFIX = "catalog-"


def catalog_blob_name(family: str, version: str) -> str:
    """The captured VHD in the factory lab's uploads container (a plain blob name)."""
    return f"{CATALOG_PREFIX}{image_name(family, version)}.vhd"


def vm_prefix(image: ImageDefinition) -> str:
    """The build VM name prefix: configured, else the family's letters and digits."""
    if image.build_vm_prefix:
        return image.build_vm_prefix
    letters = re.sub(r"[^a-z0-9]", "", image.name)
    if not letters or not letters[0].isalpha():
        letters = "if" + letters
    return letters[: VM_NAME_LIMIT[image.os] - VM_SUFFIX_LENGTH]


def vm_name_overflow(prefix: str, os: OsType) -> int:
    """How many characters a build VM name of `prefix` exceeds DevTest Labs' limit by
    (0: fits)."""
    return max(0, len(prefix) + VM_SUFFIX_LENGTH - VM_NAME_LIMIT[os])


def build_vm_name(image: ImageDefinition, build: str, role: str = "build") -> str:
    """`<prefix>-<6 hex>`: the same build id (and role) always gives the same VM name."""
    digest = hashlib.sha256(f"{role}:{build}".encode()).hexdigest()[:6]
    return f"{vm_prefix(image)}-{digest}"
