"""Parameters and overrides as the extension's tasks take them, checked before Azure."""

from __future__ import annotations

import pytest

from shared.lab_tasks.errors import LabUsageError
from shared.lab_tasks.templates import (
    Template,
    as_text,
    parse_extension_overrides,
    parse_overrides,
    resolve,
)

TEMPLATE = Template(
    "t.json",
    {
        "parameters": {
            "Name": {"type": "string"},
            "count": {"type": "int", "defaultValue": 1},
            "enabled": {"type": "bool", "defaultValue": False},
            "tags": {"type": "object", "defaultValue": {}},
        },
        "resources": [],
    },
)


def test_the_extensions_override_text() -> None:
    text = "-Name 'two words' -count 3 -tags '{\"a\": 1}' -enabled \"true\" -empty"
    assert parse_extension_overrides(text) == {
        "Name": "two words",
        "count": "3",
        "tags": '{"a": 1}',
        "enabled": "true",
        "empty": "",
    }
    assert parse_extension_overrides("-delta -5") == {"delta": "-5"}


def test_override_text_must_start_with_a_name() -> None:
    with pytest.raises(LabUsageError, match="must start with -NAME"):
        parse_extension_overrides("value -Name x")


def test_values_convert_to_declared_types_and_names_ignore_case() -> None:
    values = resolve(
        TEMPLATE,
        {"count": 2},
        {**parse_overrides(["name=vm"]), **parse_extension_overrides("-ENABLED true -tags {}")},
    )
    assert values == {"count": 2, "Name": "vm", "enabled": True, "tags": {}}
    assert [as_text(v) for v in (True, 3, {"a": 1}, "x")] == ["true", "3", '{"a": 1}', "x"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"count": "three"}, "parameter 'count' of t.json is int, and 'three' is not one"),
        ({"enabled": "yes"}, "is bool, and 'yes' is not one"),
        ({"nope": "1"}, "an override sets 'nope', which t.json does not declare"),
        ({}, "t.json needs a value for 'Name'"),
    ],
)
def test_what_is_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(LabUsageError, match=message.replace("(", r"\(")):
        resolve(TEMPLATE, {}, {"Name": "x", **overrides} if overrides else {})
