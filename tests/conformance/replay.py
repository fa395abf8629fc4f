"""Replaying recorded Azure interactions against the emulator, and comparing the answers.

A fixture file (`fixtures/*.json`) transcribes real interactions of one source (a
recording or a set of REST spec examples): `source` names the repository, path and commit;
`flows` are ordered interactions replayed one after the other in a fresh world; each
interaction names its `index` in the source (or its recorded time when the index is not
known) and carries:

- `request`: `method`, `path` (placeholders below) or `url` (`@Azure-AsyncOperation` or
  `@Location`: the header of the latest answer that carried it), optional `body`,
  `api_version` (default: the provider's recorded one) and `advance` (`true`: let the
  simulated clock run until the operations under way are done before sending);
- `response`: `status`; `headers` (`present`, `absent`, and `forms`: templates the value
  must match); `body` (the recorded body, whose keys must be exactly the emulator's,
  except the dotted paths in `optional`, which may be missing, and in `extra`, which may be
  added: a spec example that omits what the recordings show), `enums` (dotted paths whose
  values must be equal), `checks` (dotted path -> templates its value must each match)
  and `exact` (the whole body must equal the recorded one).

`not_emulated` lists the source's interactions that touch no API the emulator
implements, with the reason; they are counted, not replayed.

Placeholders: in request paths and bodies, and in expected strings, `{name}` stands for
a value of the replay's world (`subscription`, `group`, `lab`, `labPath`, `labId`,
`location`, `vm`, `image`, ...); in expected strings `{date}` matches 8 digits, `{guid}` a
lowercase GUID, `{digits}` digits, `{any}` anything and any other `{name}` one path
segment. A recorded string without placeholders is data: only its type is compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PATTERNS = {
    "date": r"\d{8}",
    "guid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "digits": r"\d+",
    "any": r".*",
}


@dataclass
class Fixture:
    path: Path
    data: dict[str, Any]

    @property
    def source(self) -> dict[str, str]:
        return dict(self.data["source"])

    @property
    def label(self) -> str:
        source = self.source
        return f"{source['repository']}:{source['path']}"

    def flows(self) -> list[dict[str, Any]]:
        return list(self.data["flows"])

    def not_emulated(self) -> int:
        return sum(len(entry["indexes"]) for entry in self.data.get("not_emulated", []))


def load_fixtures() -> list[Fixture]:
    return [
        Fixture(path, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(FIXTURES.glob("*.json"))
    ]


def fill(value: Any, context: dict[str, str]) -> Any:
    """Request side: replace `{name}` with the world's value (unknown names stay)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(item, context) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, context) for key, item in value.items()}
    return value


def pattern(template: str, context: dict[str, str]) -> re.Pattern[str]:
    """Expected side: a template as a full-match regular expression."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name = match.group(1)
        if name in context:
            parts.append(re.escape(context[name]))
        else:
            parts.append(_PATTERNS.get(name, r"[^/?&]+"))
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts), re.DOTALL)


@dataclass
class Comparison:
    """Differences between a recorded body and the emulator's, as readable lines."""

    context: dict[str, str]
    optional: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)
    enums: set[str] = field(default_factory=set)
    exact: bool = False
    problems: list[str] = field(default_factory=list)

    def compare(self, expected: Any, actual: Any, path: str = "") -> list[str]:
        self._compare(expected, actual, path)
        return self.problems

    def _where(self, path: str) -> str:
        return path or "(body)"

    def _compare(self, expected: Any, actual: Any, path: str) -> None:
        generic = re.sub(r"\[\d+\]", "[]", path)
        if isinstance(expected, dict):
            if not isinstance(actual, dict):
                self.problems.append(f"{self._where(path)}: expected an object, got {actual!r}")
                return
            for key in expected:
                child = f"{path}.{key}" if path else key
                if key not in actual:
                    if re.sub(r"\[\d+\]", "[]", child) not in self.optional:
                        self.problems.append(f"{child}: missing (recorded)")
                    continue
                self._compare(expected[key], actual[key], child)
            for key in actual:
                if key not in expected:
                    child = f"{path}.{key}" if path else key
                    if re.sub(r"\[\d+\]", "[]", child) not in self.extra:
                        self.problems.append(f"{child}: not in the recorded body")
            return
        if isinstance(expected, list):
            if not isinstance(actual, list):
                self.problems.append(f"{self._where(path)}: expected a list, got {actual!r}")
                return
            if self.exact and len(expected) != len(actual):
                self.problems.append(
                    f"{self._where(path)}: {len(actual)} items, recorded {len(expected)}"
                )
            if expected:
                for index, item in enumerate(actual):
                    self._compare(expected[min(index, len(expected) - 1)], item, f"{path}[{index}]")
            elif actual and generic not in self.optional:
                self.problems.append(f"{self._where(path)}: recorded empty, got {actual!r}")
            return
        if isinstance(expected, str) and _PLACEHOLDER.search(expected):
            if not isinstance(actual, str) or not pattern(expected, self.context).fullmatch(actual):
                self.problems.append(
                    f"{self._where(path)}: {actual!r} does not have the recorded form "
                    f"{fill(expected, self.context)!r}"
                )
            return
        if self.exact or generic in self.enums:
            if expected != actual:
                self.problems.append(f"{self._where(path)}: {actual!r}, recorded {expected!r}")
            return
        numbers = isinstance(expected, int | float) and isinstance(actual, int | float)
        if type(expected) is not type(actual) and not (expected is None or numbers):
            self.problems.append(
                f"{self._where(path)}: a {type(actual).__name__} ({actual!r}), recorded a "
                f"{type(expected).__name__}"
            )


def lookup(body: Any, dotted: str) -> Any:
    value = body
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def check_problems(checks: dict[str, list[str]], body: Any, context: dict[str, str]) -> list[str]:
    """Extra templates a value must match, each on its own (e.g. SAS query parameters)."""
    problems = []
    for dotted, templates in checks.items():
        value = lookup(body, dotted)
        for template in templates:
            if not isinstance(value, str) or not pattern(template, context).fullmatch(value):
                problems.append(f"{dotted}: {value!r} does not match {template!r}")
    return problems


def header_problems(
    expected: dict[str, Any], headers: dict[str, str], context: dict[str, str]
) -> list[str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    problems = [
        f"header {name}: missing (recorded)"
        for name in expected.get("present", [])
        if name.lower() not in lowered
    ]
    problems += [
        f"header {name}: present ({lowered[name.lower()]!r}), recorded absent"
        for name in expected.get("absent", [])
        if name.lower() in lowered
    ]
    for name, template in expected.get("forms", {}).items():
        value = lowered.get(name.lower())
        if value is None:
            problems.append(f"header {name}: missing (recorded)")
        elif not pattern(template, context).fullmatch(value):
            problems.append(
                f"header {name}: {value!r} does not have the recorded form "
                f"{fill(template, context)!r}"
            )
    return problems
