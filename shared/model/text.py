"""Saying a failure in one line: the one rule every layer uses for an error's reason."""

from __future__ import annotations


def first_line(value: object, default: str = "") -> str:
    """The first non-blank line of `value`'s text; `default` (or, for an exception without
    text, its class name) when there is none."""
    text = str(value).strip()
    if text:
        return text.splitlines()[0].strip()
    if default:
        return default
    return type(value).__name__ if isinstance(value, BaseException) else ""
