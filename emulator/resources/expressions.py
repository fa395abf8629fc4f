"""ARM template language expressions: the subset real lab and environment templates use.

A string value `"[...]"` is an expression; `"[[..."` is a literal starting with `[`.
Supported: string, integer and boolean literals, property access (`.location`) and
indexes (`[0]`), and the functions `parameters`, `variables`, `concat`, `resourceGroup`,
`subscription`, `resourceId`, `uniqueString`, `toLower`, `toUpper`, `take`, `true`,
`false`. Anything else raises `ExpressionError` naming the function: the deployment is
refused as ARM refuses a template it cannot evaluate, never given a made-up value.

`uniqueString` has the service's shape (13 characters of base32, deterministic in its
arguments) but not its exact values: ARM's hash is not published.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<member>\.[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),\[\]]))"
)


class ExpressionError(ValueError):
    """An expression the emulator cannot evaluate; the message is one sentence."""


@dataclass
class Scope:
    """What expressions see: parameter values, raw variables, the target resource group."""

    subscription: str
    resource_group: str
    location: str
    parameters: dict[str, Any]
    variables: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    _resolved: dict[str, Any] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)

    def parameter(self, name: str) -> Any:
        for key, value in self.parameters.items():
            if key.lower() == name.lower():
                return value
        raise ExpressionError(f"The template parameter '{name}' is not found.")

    def variable(self, name: str) -> Any:
        key = next((k for k in self.variables if k.lower() == name.lower()), None)
        if key is None:
            raise ExpressionError(f"The template variable '{name}' is not found.")
        if key in self._resolved:
            return self._resolved[key]
        if key in self._resolving:
            raise ExpressionError(f"The template variable '{name}' refers to itself.")
        self._resolving.add(key)
        try:
            value = evaluate(self.variables[key], self)
        finally:
            self._resolving.discard(key)
        self._resolved[key] = value
        return value


def evaluate(value: Any, scope: Scope) -> Any:
    """Evaluate every expression inside a JSON value (objects and arrays recursively)."""
    if isinstance(value, str):
        return evaluate_string(value, scope)
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: evaluate(item, scope) for key, item in value.items()}
    return value


def evaluate_string(text: str, scope: Scope) -> Any:
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return text
    if stripped.startswith("[["):
        return text.replace("[[", "[", 1)
    parser = _Parser(stripped[1:-1], scope)
    result = parser.expression()
    parser.end()
    return result


class _Parser:
    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.scope = scope
        self.tokens = self._tokenize(text)
        self.index = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None:
                raise ExpressionError(
                    f"The template language expression '{text}' is not valid at position "
                    f"{position + 1}."
                )
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, punct: str | None = None) -> tuple[str, str]:
        token = self._peek()
        if token is None or (punct is not None and token != ("punct", punct)):
            expected = f"'{punct}'" if punct else "more"
            raise ExpressionError(
                f"The template language expression '{self.text}' is not valid: expected {expected}."
            )
        self.index += 1
        return token

    def end(self) -> None:
        if self._peek() is not None:
            raise ExpressionError(
                f"The template language expression '{self.text}' is not valid: unexpected "
                f"'{self._peek()[1]}'."  # type: ignore[index]
            )

    def expression(self) -> Any:
        kind, value = self._take()
        if kind == "string":
            result: Any = value[1:-1].replace("''", "'")
        elif kind == "number":
            result = int(value)
        elif kind == "name":
            self._take("(")
            args: list[Any] = []
            if self._peek() != ("punct", ")"):
                args.append(self.expression())
                while self._peek() == ("punct", ","):
                    self._take(",")
                    args.append(self.expression())
            self._take(")")
            result = call(value, args, self.scope)
        else:
            raise ExpressionError(
                f"The template language expression '{self.text}' is not valid: unexpected "
                f"'{value}'."
            )
        while True:
            token = self._peek()
            if token == ("punct", "["):
                self._take("[")
                key = self.expression()
                self._take("]")
                result = _index(result, key)
            elif token is not None and token[0] == "member":
                self.index += 1
                result = _member(result, token[1][1:])
            else:
                return result


def _member(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() == name.lower():
                return item
    raise ExpressionError(f"The language expression property '{name}' doesn't exist.")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, list) and isinstance(key, int):
        if 0 <= key < len(value):
            return value[key]
        raise ExpressionError(f"The index {key} is out of range of an array of {len(value)}.")
    if isinstance(value, dict) and isinstance(key, str):
        return _member(value, key)
    raise ExpressionError(f"The value cannot be indexed with {key!r}.")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str | int):
        return str(value)
    raise ExpressionError("The function 'concat' expects strings, integers or arrays.")


def _concat(args: list[Any], scope: Scope) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [item for a in args for item in a]
    return "".join(_text(a) for a in args)


def _resource_id(args: list[Any], scope: Scope) -> str:
    if not all(isinstance(a, str) for a in args):
        raise ExpressionError("The function 'resourceId' expects string arguments.")
    position = next((i for i, a in enumerate(args) if "/" in a), None)
    if position is None or position > 2:
        raise ExpressionError(
            "The function 'resourceId' needs a fully qualified resource type such as "
            "'Microsoft.DevTestLab/labs/virtualmachines'."
        )
    subscription, group = scope.subscription, scope.resource_group
    if position == 1:
        group = args[0]
    elif position == 2:
        subscription, group = args[0], args[1]
    namespace, *types = args[position].strip().split("/")
    names = args[position + 1 :]
    if len(types) != len(names) or not types:
        raise ExpressionError(
            f"Unable to evaluate the template language function 'resourceId': the type "
            f"'{args[position]}' requires {len(types)} resource name argument(s)."
        )
    path = "".join(f"/{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{namespace}{path}"


def _unique_string(args: list[Any], scope: Scope) -> str:
    if not args or not all(isinstance(a, str) for a in args):
        raise ExpressionError("The function 'uniqueString' expects one or more strings.")
    digest = int.from_bytes(hashlib.sha256("-".join(args).encode()).digest()[:8], "big")
    return "".join(_BASE32[(digest >> (5 * i)) & 31] for i in range(13))


def _take_fn(args: list[Any], scope: Scope) -> Any:
    if len(args) != 2 or not isinstance(args[1], int):
        raise ExpressionError("The function 'take' expects a string or array and a count.")
    value, count = args
    if not isinstance(value, str | list):
        raise ExpressionError("The function 'take' expects a string or array and a count.")
    return value[: max(count, 0)]


def _one_string(name: str, convert: Callable[[str], str]) -> Callable[[list[Any], Scope], Any]:
    def fn(args: list[Any], scope: Scope) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            raise ExpressionError(f"The function '{name}' expects one string.")
        return convert(args[0])

    return fn


def _resource_group(args: list[Any], scope: Scope) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{scope.subscription}/resourceGroups/{scope.resource_group}",
        "name": scope.resource_group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": scope.location,
        "tags": dict(scope.tags),
        "properties": {"provisioningState": "Succeeded"},
    }


def _subscription(args: list[Any], scope: Scope) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{scope.subscription}",
        "subscriptionId": scope.subscription,
    }


def _one_name(kind: str) -> Callable[[list[Any], Scope], Any]:
    def fn(args: list[Any], scope: Scope) -> Any:
        if len(args) != 1 or not isinstance(args[0], str):
            raise ExpressionError(f"The function '{kind}' expects one string name.")
        return scope.parameter(args[0]) if kind == "parameters" else scope.variable(args[0])

    return fn


FUNCTIONS: dict[str, Callable[[list[Any], Scope], Any]] = {
    "parameters": _one_name("parameters"),
    "variables": _one_name("variables"),
    "concat": _concat,
    "resourcegroup": _resource_group,
    "subscription": _subscription,
    "resourceid": _resource_id,
    "uniquestring": _unique_string,
    "tolower": _one_string("toLower", str.lower),
    "toupper": _one_string("toUpper", str.upper),
    "take": _take_fn,
    "true": lambda args, scope: True,
    "false": lambda args, scope: False,
}


def call(name: str, args: list[Any], scope: Scope) -> Any:
    function = FUNCTIONS.get(name.lower())
    if function is None:
        raise ExpressionError(
            f"The template function '{name}' is not supported by the emulator (it evaluates "
            f"{', '.join(sorted(FUNCTIONS))})."
        )
    return function(args, scope)
