"""Azure Resource Manager resource ids: parsing and case-insensitive comparison."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RG = re.compile(r"^[-\w._()]{1,90}$")
_NAME = re.compile(r"^[^/?#]{1,260}$")
_LAB_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,50}$")
_EXAMPLE = "/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.DevTestLab/labs/<lab>"


class ArmIdError(ValueError):
    """A malformed resource id; the message says what was expected."""


@dataclass(frozen=True)
class ResourceId:
    subscription: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def full_type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    def __str__(self) -> str:
        parts = [f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"]
        parts.append(f"/providers/{self.namespace}")
        for kind, name in zip(self.types, self.names, strict=True):
            parts.append(f"/{kind}/{name}")
        return "".join(parts)


def parse_resource_id(value: str) -> ResourceId:
    """Parse `/subscriptions/<guid>/resourceGroups/<rg>/providers/<ns>/<type>/<name>[/...]`."""
    parts = value.split("/")
    if (
        len(parts) < 9
        or parts[0] != ""
        or parts[1].lower() != "subscriptions"
        or parts[3].lower() != "resourcegroups"
        or parts[5].lower() != "providers"
        or len(parts) % 2 == 0
    ):
        raise ArmIdError(f"'{value}' is not an ARM resource id of the form {_EXAMPLE}")
    subscription, group, namespace = parts[2], parts[4], parts[6]
    if not _GUID.match(subscription):
        raise ArmIdError(f"subscription '{subscription}' in '{value}' is not a GUID")
    if not _RG.match(group) or group.endswith("."):
        raise ArmIdError(f"resource group '{group}' in '{value}' is not a valid name")
    rest = parts[7:]
    types = tuple(rest[0::2])
    names = tuple(rest[1::2])
    if not all(types) or not all(_NAME.match(n) for n in names):
        raise ArmIdError(f"'{value}' has an empty or malformed type or name segment")
    return ResourceId(subscription.lower(), group, namespace, types, names)


def parse_lab_id(value: str) -> ResourceId:
    """A DevTest Labs lab id, exactly (not a child resource of a lab)."""
    parsed = parse_resource_id(value)
    if parsed.full_type.lower() != "microsoft.devtestlab/labs":
        raise ArmIdError(f"'{value}' is not a DevTest Labs lab id (expected {_EXAMPLE})")
    if not _LAB_NAME.match(parsed.name):
        raise ArmIdError(f"lab name '{parsed.name}' must be 1-50 letters, digits, '_' or '-'")
    return parsed


def checked_lab_id(value: str) -> str:
    """`value` itself if it is a lab id; else ArmIdError (a ValueError: a model's field
    validation reports its sentence)."""
    parse_lab_id(value)
    return value


# A model field holding a lab's resource id, checked as `parse_lab_id` checks it.
LabId = Annotated[str, AfterValidator(checked_lab_id)]


def same_id(a: str, b: str) -> bool:
    """ARM ids compare case-insensitively (the service returns them lowercased)."""
    return a.lower() == b.lower()


def lab_id(subscription: str, resource_group: str, lab: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.DevTestLab/labs/{lab}"
    )
