"""A configuration problem, said in one sentence with its file, line and field; and how a
pydantic validation error becomes one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shared.config.models import Model
from shared.config.yaml_lines import LoadedYaml, Loc


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}."


class ConfigInvalid(Exception):
    """The configuration has problems; `problems` lists every one, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], path: str, document: LoadedYaml, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        problems += [_problem(path, document, error) for error in exc.errors()]
        return None


def _problem(path: str, document: LoadedYaml, error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return at(path, document, loc, f"unknown key '{key}'{did_you_mean(key, _KNOWN_KEYS)}")
    if kind == "missing":
        return at(path, document, loc, "is required but missing")
    expected = _EXPECTED.get(kind)
    if expected is not None:
        message = f"expected {expected.format(**ctx)}, got {_describe(value)}"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = error["msg"][0].lower() + error["msg"][1:]
    return at(path, document, loc, message)


def at(path: str, document: LoadedYaml, loc: Loc, message: str) -> Problem:
    return Problem(path, document.line_of(loc), _field_path(loc), message)


def _field_path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return f"{value!r} ({type(value).__name__})"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _all_keys() -> set[str]:
    keys: set[str] = set()
    stack: list[type[BaseModel]] = [Model]
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        for name, field in cls.model_fields.items():
            keys.add(field.alias or name)
    return keys


_KNOWN_KEYS = _all_keys()

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
    "greater_than_equal": "a number of at least {ge}",
    "greater_than": "a number greater than {gt}",
    "less_than_equal": "a number of at most {le}",
    "string_too_short": "text of at least {min_length} character(s)",
    "string_too_long": "text of at most {max_length} characters",
    "string_pattern_mismatch": "text matching {pattern}",
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} items",
}


def unknown_images(names: Iterable[str], defined: Iterable[str]) -> str | None:
    """Why a request naming these images is refused (one clause), or None: all are defined."""
    known = sorted(defined)
    unknown = sorted(set(names) - set(known))
    if not unknown:
        return None
    listed = ", ".join(f"'{name}'{did_you_mean(name, known)}" for name in unknown)
    verb = "is" if len(unknown) == 1 else "are"
    return (
        f"{listed} {verb} not an image definition; "
        f"expected names of: {', '.join(known) or 'none defined'}"
    )
