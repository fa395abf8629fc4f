"""YAML loading that keeps the line of every value, so errors can name file:line.

YAML 1.2 (ruamel.yaml), as editors and the YAML language server read it: `NO`, `yes`,
`on` and `off` are text, only `true` and `false` are booleans, `012` is twelve.

Configuration files are data, never code, and they may come from anyone with push
rights: the loader accepts plain YAML values only (text, numbers, true/false, null,
timestamps, mappings with plain keys, lists) and turns everything else into one
`YamlSyntaxError` with its line: unknown or language-specific tags (`!!python/...`),
merge keys (`<<`), keys that are mappings or lists, control characters, numbers of more
than `MAX_NUMBER_DIGITS` digits, nesting deeper than `MAX_DEPTH`, an alias inside the
value it names, and documents whose aliases expand to more than `MAX_VALUES` values
(the "billion laughs"). Work is bounded by the text's size and these limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent, Event
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Loc = tuple[str | int, ...]

MAX_DEPTH = 32  # a configuration nests 5 levels; JSON Schema editors show no more
MAX_VALUES = 100_000  # values in one document with every alias expanded
MAX_NUMBER_DIGITS = 100

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE_TAG = _TAG + "merge"
# What YAML allows in a stream (the same set the YAML reader enforces).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class YamlSyntaxError(ValueError):
    """The text is not valid YAML (or not a mapping at the top)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class LoadedYaml:
    """A parsed YAML document and the 1-based line where each value (by path) starts."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest known prefix of `loc` (the document start if none)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1


def _yaml() -> YAML:
    """A safe, pure-Python YAML 1.2 reader: no Python objects, no C extension."""
    return YAML(typ="safe", pure=True)


def _line(node: Node | Event) -> int:
    mark = node.start_mark
    return mark.line + 1 if mark is not None else 1


def _describe_tag(tag: str | None) -> str:
    tag = tag or "?"
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


class _Walker:
    """Builds Python values from composed nodes, within the limits, recording lines."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.values = 0
        self.path: list[int] = []  # ids of the collections being built (alias cycles)
        self.scalars = _yaml().constructor

    def walk(self, node: Node, loc: Loc) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlSyntaxError(
                _line(node),
                f"the document expands to more than {MAX_VALUES} values through its aliases; "
                "expected each alias to name a small value",
            )
        if len(self.path) >= MAX_DEPTH:
            raise YamlSyntaxError(
                _line(node), f"values nest deeper than {MAX_DEPTH} levels; expected a flatter file"
            )
        self.lines[loc] = _line(node)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self.path:
            raise YamlSyntaxError(
                _line(node),
                "this value contains an alias to itself; expected aliases to name finished values",
            )
        self.path.append(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            if isinstance(node, SequenceNode):
                if node.tag != _TAG + "seq":
                    raise self._tag_error(node)
                return [self.walk(item, (*loc, i)) for i, item in enumerate(node.value)]
        finally:
            self.path.pop()
        raise YamlSyntaxError(_line(node), "expected a plain YAML value")

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[Any, Any]:
        if node.tag != _TAG + "map":
            raise self._tag_error(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise YamlSyntaxError(
                    _line(key_node),
                    "merge keys (<<) are not supported; expected every key written out",
                )
            if not isinstance(key_node, ScalarNode):
                kind = "mapping" if isinstance(key_node, MappingNode) else "list"
                raise YamlSyntaxError(
                    _line(key_node), f"a key is a {kind}; expected keys that are plain text"
                )
            key = self._scalar(key_node)
            if key in result:
                raise YamlSyntaxError(
                    _line(key_node), f"the key '{key}' appears twice in one mapping"
                )
            result[key] = self.walk(value_node, (*loc, key))
            self.lines[(*loc, key)] = _line(key_node)
        return result

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _PLAIN_TAGS:
            raise self._tag_error(node)
        digits = sum(c.isdigit() for c in node.value)
        if node.tag in (_TAG + "int", _TAG + "float") and digits > MAX_NUMBER_DIGITS:
            raise YamlSyntaxError(
                _line(node),
                f"a number of {digits} digits; expected at most {MAX_NUMBER_DIGITS} digits",
            )
        try:
            return self.scalars.construct_object(node, deep=True)
        except (ValueError, OverflowError, YAMLError) as exc:
            text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            raise YamlSyntaxError(
                _line(node), f"'{text}' is not a valid {_describe_tag(node.tag)[2:]} ({exc})"
            ) from exc

    @staticmethod
    def _tag_error(node: Node) -> YamlSyntaxError:
        return YamlSyntaxError(
            _line(node),
            f"the tag {_describe_tag(node.tag)} is not allowed; expected plain values "
            "(text, numbers, true/false, mappings and lists) without tags",
        )


def _check_characters(text: str) -> None:
    bad = _NOT_PRINTABLE.search(text)
    if bad is None:
        return
    line = text.count("\n", 0, bad.start()) + 1
    char = f"U+{ord(bad.group()):04X}"
    what = "a NUL character (a binary file?)" if char == "U+0000" else f"the character {char}"
    raise YamlSyntaxError(line, f"holds {what}; expected printable text, tabs and newlines")


def _check_depth(text: str) -> None:
    """Nesting is bounded before the (recursive) composer sees the text."""
    depth = 0
    for event in _yaml().parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlSyntaxError(
                    _line(event),
                    f"values nest deeper than {MAX_DEPTH} levels; expected a flatter file",
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def parse_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document, recording lines. An empty document is an empty mapping."""
    _check_characters(text)
    try:
        _check_depth(text)
        node = _yaml().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, f"not valid YAML: {exc.problem or exc}") from exc
    except YAMLError as exc:
        raise YamlSyntaxError(1, f"not valid YAML: {' '.join(str(exc).split())}") from exc
    if node is None:
        return LoadedYaml(data={}, lines={(): 1})
    walker = _Walker()
    data = walker.walk(node, ())
    return LoadedYaml(data=data, lines=walker.lines)


def load_yaml_file(path: Path) -> LoadedYaml:
    return parse_yaml(path.read_text(encoding="utf-8"))
