"""ARM's limits on tags and resource names, and DevTest Labs' on VM names.

Tags (ARM, documented for every resource type): at most 50 per resource, names up to 512
characters, values up to 256, and no `<`, `>`, `%`, `&`, `\\`, `?`, `/` or control
characters in a name. A lab VM's name is its computer name: up to 15 characters for
Windows and 64 for Linux, letters, digits and hyphens, starting with a letter and not
ending with a hyphen. Other names follow ARM's rule for resource names.
"""

from __future__ import annotations

import re

from emulator.exceptions import (
    InvalidResourceName,
    InvalidTagCount,
    InvalidTagNameCharacters,
    InvalidTagNameLength,
    InvalidTagValueLength,
)

MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
RESERVED_TAG_CHARACTERS = "<>%&\\?/"
VM_NAME_LENGTH = {"Windows": 15, "Linux": 64}

_VM_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_RESOURCE_NAME = re.compile(r"^\w(?:[\w.-]*[\w_])?$")


def check_tags(tags: dict[str, str]) -> None:
    """Refuse what ARM refuses, with its error codes."""
    if len(tags) > MAX_TAGS:
        raise InvalidTagCount(
            f"The resource has {len(tags)} tags; at most {MAX_TAGS} tags are allowed per resource."
        )
    bad = [
        name
        for name in tags
        if any(c in RESERVED_TAG_CHARACTERS or ord(c) < 32 or ord(c) == 127 for c in name)
    ]
    if bad:
        raise InvalidTagNameCharacters(
            f"The tag names '{', '.join(bad)}' have reserved characters "
            f"'{','.join(RESERVED_TAG_CHARACTERS)}' or control characters."
        )
    for name, value in tags.items():
        if len(name) > MAX_TAG_NAME:
            raise InvalidTagNameLength(
                f"The tag name '{name[:40]}...' has {len(name)} characters; a tag name can "
                f"have at most {MAX_TAG_NAME}."
            )
        if len(value) > MAX_TAG_VALUE:
            raise InvalidTagValueLength(
                f"The value of tag '{name}' has {len(value)} characters; a tag value can have "
                f"at most {MAX_TAG_VALUE}."
            )


def check_vm_name(name: str, os_type: str | None) -> None:
    limit = VM_NAME_LENGTH.get(os_type or "", max(VM_NAME_LENGTH.values()))
    if not _VM_NAME.match(name) or len(name) > limit:
        what = f"a {os_type} virtual machine" if os_type else "a virtual machine"
        raise InvalidResourceName(
            f"The name '{name}' is not valid for {what}: use 1 to {limit} letters, digits "
            "and hyphens, starting with a letter and not ending with a hyphen."
        )


def check_resource_name(name: str, kind: str) -> None:
    if len(name) > 80 or not _RESOURCE_NAME.match(name):
        raise InvalidResourceName(
            f"The {kind} name '{name}' is invalid. It can be up to 80 characters long, must "
            "begin with a word character and end with a word character or '_', and may "
            "contain word characters, '.', '-' and '_'."
        )
