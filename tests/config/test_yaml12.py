"""YAML 1.2, as editors read it: `NO`, `yes`, `on` and `off` are text; only true and false
are booleans. Line numbers are kept."""

from __future__ import annotations

import pytest

from shared.config.loading import ConfigInvalid, load_files
from shared.config.yaml_lines import parse_yaml
from tests.factories import FACTORY_ID, FACTORY_LAB


def test_norway_is_text_and_yes_is_not_a_boolean() -> None:
    document = parse_yaml("country: NO\nanswer: yes\nswitch: on\noff: off\nflag: true\nn: 012\n")
    assert document.data == {
        "country": "NO",
        "answer": "yes",
        "switch": "on",
        "off": "off",
        "flag": True,
        "n": 12,
    }
    assert document.line_of(("flag",)) == 5


def test_an_artifact_parameter_of_no_reaches_the_artifact_as_written() -> None:
    factory = load_files(
        {
            "factory.yaml": f"factoryId: {FACTORY_ID}\nfactoryLab: {FACTORY_LAB}\n",
            "images/app.yaml": "name: app\nos: Linux\nbase:\n  gallery: {publisher: p, "
            "offer: o, sku: s}\nartifacts:\n  - name: set-locale\n    parameters:\n"
            "      country: NO\n      reboot: off\n",
        }
    )
    assert factory.images["app"].artifacts[0].parameters == {"country": "NO", "reboot": "off"}


def test_yes_where_a_boolean_is_expected_is_an_error_at_its_line() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_files(
            {
                "factory.yaml": f"factoryId: {FACTORY_ID}\nfactoryLab: {FACTORY_LAB}\n"
                "retention:\n  retireRemoved: yes\n",
                "images/app.yaml": "name: app\nos: Linux\nbase:\n  gallery: {publisher: p, "
                "offer: o, sku: s}\n",
            }
        )
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (
        "factory.yaml",
        4,
        "retention.retireRemoved",
    )
    assert "expected true or false, got 'yes'" in problem.message
