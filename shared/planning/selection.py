"""Which images a lab selects from its list of names and globs."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable


def select_images(patterns: Iterable[str], images: Iterable[str]) -> list[str]:
    """The image names a lab selects: exact names or globs, never a string prefix."""
    names = sorted(images)
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
