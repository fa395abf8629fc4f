"""JSON Schemas of the configuration files, generated from the models (committed in schema/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared.config.models import FactorySettings, ImageDefinition, LabTarget

SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "factory.schema.json": FactorySettings,
    "image.schema.json": ImageDefinition,
    "lab.schema.json": LabTarget,
}


def schema_of(model: type[BaseModel], filename: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://imagefactory.invalid/schema/{filename}",
        **schema,
    }


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, exactly as committed under schema/."""
    return {
        name: json.dumps(schema_of(model, name), indent=2, sort_keys=True) + "\n"
        for name, model in SCHEMA_FILES.items()
    }


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
