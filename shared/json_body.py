"""Strict JSON for request bodies: every way a body can be unreadable is one `BodyError`.

The standard parser raises RecursionError on deep nesting, a plain ValueError on an
integer of more than 4,300 digits and UnicodeDecodeError on bytes that are not UTF-8, and
it turns `1e999` into infinity and accepts `NaN`: callers would answer 500 or carry a
value no field can hold. Here the body must be UTF-8, nest at most `MAX_DEPTH` levels,
and hold only finite numbers of at most `MAX_NUMBER_DIGITS` digits.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64  # provider payloads nest about 6 levels; a run's options 2
MAX_NUMBER_DIGITS = 100


class BodyError(ValueError):
    """The body is not JSON the factory reads; `message` is one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BodyError(
            f"The body holds an integer of {len(text)} digits, more than a field holds."
        )
    return int(text)


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or len(text) > MAX_NUMBER_DIGITS:
        raise BodyError(f"The body holds the number {text[:40]}, too large for a number field.")
    return value


def _constant(name: str) -> Any:
    raise BodyError(f"The body holds {name}, which is not a JSON number.")


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack += [(child, level + 1) for child in children]
    return deepest


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def parse_json(body: bytes) -> Any:
    """The JSON value of `body`; raises BodyError with one sentence for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"The body is not UTF-8 text (byte {exc.start} on line {_line_of(body, exc.start)})."
        ) from exc
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError as exc:
        raise BodyError(f"The body nests deeper than {MAX_DEPTH} levels.") from exc
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"The body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from exc
    if _depth(value) > MAX_DEPTH:
        raise BodyError(f"The body nests deeper than {MAX_DEPTH} levels.")
    return value
