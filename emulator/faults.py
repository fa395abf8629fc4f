"""Faults on demand: rules from the scenario or the admin API, matched per request/operation.

Kinds:
- `throttle`: the request gets 429 with Retry-After (ARM's throttling error).
- `error`: the request gets 500 or 503 (`status`), with Retry-After when given.
- `fail_operation`: a long-running operation runs, then ends Failed with `code`/`message`.
- `artifact_failure`: the named artifact fails with `message` on the VM it is applied to.
- `quota`: a create is refused with 409 QuotaExceeded, as if the vCPU quota were used up.
- `slow`: matching operations take `factor` times longer.

A rule matches on method, resource type, operation name and path (all optional,
case-insensitive); it fires with probability `rate` and at most `count` times.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from emulator.scenario import FaultSpec


@dataclass
class _Rule:
    id: int
    spec: FaultSpec
    fired: int = 0

    def exhausted(self) -> bool:
        return self.spec.count is not None and self.fired >= self.spec.count


@dataclass(frozen=True)
class RequestKind:
    """What a request is, for matching and counting."""

    method: str
    resource_type: str
    operation: str
    path: str


def _eq(expected: str | None, actual: str) -> bool:
    return expected is None or expected.lower() == actual.lower()


class Faults:
    """The active fault rules; thread-safe; seeded for reproducible random faults."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._next_id = 1
        self._random = random.Random(seed)

    def add(self, spec: FaultSpec) -> int:
        with self._lock:
            rule = _Rule(self._next_id, spec)
            self._next_id += 1
            self._rules.append(rule)
            return rule.id

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def describe(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {"id": r.id, "fired": r.fired, **r.spec.model_dump(exclude_none=True)}
                for r in self._rules
            ]

    def _take(
        self, kinds: set[str], request: RequestKind, artifact: str | None
    ) -> FaultSpec | None:
        with self._lock:
            for rule in self._rules:
                spec = rule.spec
                if spec.kind not in kinds or rule.exhausted():
                    continue
                if not (
                    _eq(spec.method, request.method)
                    and _eq(spec.resource_type, request.resource_type)
                    and _eq(spec.operation, request.operation)
                ):
                    continue
                if spec.path_contains and spec.path_contains.lower() not in request.path.lower():
                    continue
                if spec.artifact is not None and (
                    artifact is None or spec.artifact.lower() != artifact.lower()
                ):
                    continue
                if spec.rate < 1.0 and self._random.random() >= spec.rate:
                    continue
                rule.fired += 1
                return spec
            return None

    def on_request(self, request: RequestKind) -> FaultSpec | None:
        """A `throttle` or `error` rule firing for this request, if any."""
        return self._take({"throttle", "error"}, request, None)

    def on_quota(self, request: RequestKind) -> FaultSpec | None:
        return self._take({"quota"}, request, None)

    def on_operation(self, request: RequestKind) -> FaultSpec | None:
        """A `fail_operation` rule for the long-running operation this request starts."""
        return self._take({"fail_operation"}, request, None)

    def slow_factor(self, request: RequestKind) -> float:
        spec = self._take({"slow"}, request, None)
        return spec.factor if spec else 1.0

    def on_artifact(self, request: RequestKind, artifact: str) -> FaultSpec | None:
        return self._take({"artifact_failure"}, request, artifact)
