"""ARM templates, parameters files and parameter overrides, as the extension's tasks take them.

Values come from a parameters file (`{"parameters": {"name": {"value": ...}}}`), then
`--override NAME=VALUE` (repeatable) or `--parameter-overrides "-name 'value' -other v"`
(the extension's ParameterOverrides text, unchanged), later ones winning. Every name must
be a parameter the template declares; override text is converted to the declared type
(`int`, `bool`, `object`, `array`); a parameter without a default must get a value. All of
it is checked before anything is sent to Azure.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.lab_tasks.errors import LabUsageError

SECURE_TYPES = ("securestring", "secureobject")


@dataclass(frozen=True)
class Template:
    """A template file's JSON and where it came from (for messages)."""

    source: str
    body: dict[str, Any]

    @property
    def parameters(self) -> dict[str, Any]:
        declared = self.body.get("parameters") or {}
        return declared if isinstance(declared, dict) else {}

    @property
    def outputs(self) -> dict[str, Any]:
        declared = self.body.get("outputs") or {}
        return declared if isinstance(declared, dict) else {}

    def declared(self, name: str) -> str | None:
        """The template's spelling of a parameter name (ARM compares without case)."""
        return next((k for k in self.parameters if k.lower() == name.lower()), None)

    def kind(self, name: str) -> str:
        declaration = self.parameters.get(name)
        kind = declaration.get("type") if isinstance(declaration, dict) else None
        return str(kind or "string").lower()

    def secure_outputs(self) -> set[str]:
        return {
            name
            for name, output in self.outputs.items()
            if isinstance(output, dict) and "secure" in str(output.get("type", "")).lower()
        }


def _read_json(path: str, what: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise LabUsageError(f"the {what} {path} does not exist")
    try:
        return json.loads(file.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise LabUsageError(
            f"the {what} {path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LabUsageError(f"cannot read the {what} {path}: {exc}") from None


def read_template(path: str) -> Template:
    body = _read_json(path, "template file")
    if not isinstance(body, dict) or not isinstance(body.get("resources", []), list):
        raise LabUsageError(
            f"the template file {path} is not an ARM template (an object with 'resources')"
        )
    return Template(path, body)


def template_from(source: str, body: Any) -> Template:
    if not isinstance(body, dict):
        raise LabUsageError(f"the template {source} is not an ARM template")
    return Template(source, body)


def read_parameters(path: str | None) -> dict[str, Any]:
    """The values of a parameters file; Key Vault references are not read here."""
    if not path:
        return {}
    data = _read_json(path, "parameters file")
    parameters = data.get("parameters") if isinstance(data, dict) else None
    if not isinstance(parameters, dict):
        raise LabUsageError(f"the parameters file {path} has no 'parameters' object")
    values: dict[str, Any] = {}
    for name, entry in parameters.items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise LabUsageError(
                f"the parameters file {path}: parameter '{name}' needs a 'value' "
                "(Key Vault references are not supported here)"
            )
        values[name] = entry["value"]
    return values


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """`NAME=VALUE` pairs, in order."""
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise LabUsageError(f"--override '{item}' is not NAME=VALUE")
        values[name.strip()] = value
    return values


def parse_extension_overrides(text: str | None) -> dict[str, str]:
    """The extension's ParameterOverrides text: `-name 'value' -other "two words" -n v`."""
    if not text or not text.strip():
        return {}
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise LabUsageError(f"--parameter-overrides cannot be read: {exc}") from None
    values: dict[str, str] = {}
    name: str | None = None
    for token in tokens:
        if token.startswith("-") and len(token) > 1 and not token[1].isdigit():
            name = token[1:]
            values[name] = ""
        elif name is None:
            raise LabUsageError(
                f"--parameter-overrides must start with -NAME; '{token}' names no parameter"
            )
        else:
            values[name] = f"{values[name]} {token}" if values[name] else token
    return values


def _convert(template: Template, name: str, text: str) -> Any:
    kind = template.kind(name)
    try:
        if kind == "int":
            return int(text)
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind in ("object", "secureobject", "array"):
            return json.loads(text)
    except ValueError:
        raise LabUsageError(
            f"parameter '{name}' of {template.source} is {kind}, and '{text}' is not one"
        ) from None
    return text


def resolve(
    template: Template,
    from_file: dict[str, Any],
    overrides: dict[str, str],
    fixed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every value to send, keyed by the template's own parameter names."""
    values: dict[str, Any] = {}
    for origin, given, convert in (
        ("the parameters file", from_file, False),
        ("an override", overrides, True),
    ):
        for name, value in given.items():
            declared = template.declared(name)
            if declared is None:
                known = ", ".join(template.parameters) or "no parameters"
                raise LabUsageError(
                    f"{origin} sets '{name}', which {template.source} does not declare "
                    f"(it declares {known})"
                )
            values[declared] = _convert(template, declared, value) if convert else value
    for name, value in (fixed or {}).items():
        declared = template.declared(name)
        if declared is not None:
            values[declared] = value
    missing = [
        name
        for name, declaration in template.parameters.items()
        if name not in values
        and not (isinstance(declaration, dict) and "defaultValue" in declaration)
    ]
    if missing:
        raise LabUsageError(
            f"{template.source} needs a value for {', '.join(repr(m) for m in missing)} "
            "(give --parameters FILE or --override NAME=VALUE)"
        )
    return values


def as_text(value: Any) -> str:
    """How DevTest Labs takes an environment parameter: a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)
