"""YAML loading that keeps the line of every value, so errors can name file:line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


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


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], scalars: yaml.SafeLoader) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = scalars.construct_object(key_node, deep=True)
            if key in result:
                raise YamlSyntaxError(
                    key_node.start_mark.line + 1, f"the key '{key}' appears twice in one mapping"
                )
            result[key] = _walk(value_node, (*loc, key), lines, scalars)
            lines[(*loc, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*loc, i), lines, scalars) for i, item in enumerate(node.value)]
    return scalars.construct_object(node, deep=True)


def parse_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document, recording lines. An empty document is an empty mapping."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, f"not valid YAML: {exc.problem or exc}") from exc
    if node is None:
        return LoadedYaml(data={}, lines={(): 1})
    lines: dict[Loc, int] = {}
    data = _walk(node, (), lines, yaml.SafeLoader(""))
    return LoadedYaml(data=data, lines=lines)


def load_yaml_file(path: Path) -> LoadedYaml:
    return parse_yaml(path.read_text(encoding="utf-8"))
