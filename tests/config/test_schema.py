"""The committed JSON Schemas are generated from the models, and the example obeys them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from shared.config.schema import render_schemas

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schema"


@pytest.mark.parametrize("name", sorted(render_schemas()))
def test_committed_schema_is_current(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == render_schemas()[name], (
        f"schema/{name} is stale: run `make schema` and commit the result"
    )


@pytest.mark.parametrize(
    ("pattern", "schema"),
    [
        ("factory.yaml", "factory.schema.json"),
        ("images/*.yaml", "image.schema.json"),
        ("labs/*.yaml", "lab.schema.json"),
    ],
)
def test_example_files_validate_against_the_schema(pattern: str, schema: str) -> None:
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / schema).read_text()))
    files = sorted((ROOT / "examples" / "factory").glob(pattern))
    assert files
    for path in files:
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert not errors, (path, [e.message for e in errors])


def test_schema_rejects_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(
        json.loads((SCHEMA_DIR / "image.schema.json").read_text())
    )
    document = {"name": "x", "os": "Linux", "base": {"image": "y"}, "vmsize": "small"}
    assert any("vmsize" in e.message for e in validator.iter_errors(document))
