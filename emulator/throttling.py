"""ARM's per-subscription request limits: token buckets for reads, writes and deletes.

Every ARM response says what is left in its bucket, with the headers ARM has sent since
2024 (azure-cli lab recordings): a read carries only
`x-ms-ratelimit-remaining-subscription-global-reads`; a write carries
`x-ms-ratelimit-remaining-subscription-global-writes` and
`x-ms-ratelimit-remaining-subscription-writes`; a delete the same pair for `deletes`.
An empty bucket answers 429 with Retry-After. Buckets refill in wall-clock time.
"""

from __future__ import annotations

import math
import threading
import time

from emulator.scenario import Throttling

KINDS = ("reads", "writes", "deletes")


def header_names(kind: str) -> tuple[str, ...]:
    """The rate-limit headers a response of this kind carries, as recorded."""
    if kind == "reads":
        return ("x-ms-ratelimit-remaining-subscription-global-reads",)
    return (
        f"x-ms-ratelimit-remaining-subscription-global-{kind}",
        f"x-ms-ratelimit-remaining-subscription-{kind}",
    )


def bucket_of(method: str) -> str:
    """The bucket a request of this method draws from: reads, deletes or writes."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "reads"
    if method == "DELETE":
        return "deletes"
    return "writes"


class Throttle:
    def __init__(self, config: Throttling) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    @property
    def config(self) -> Throttling:
        return self._config

    def configure(self, config: Throttling) -> None:
        with self._lock:
            self._config = config
            self._buckets.clear()

    def take(self, subscription: str, kind: str) -> tuple[bool, int, float]:
        """Take one token: (allowed, remaining, seconds until a token is back)."""
        bucket = getattr(self._config, kind)
        now = time.monotonic()
        key = (subscription.lower(), kind)
        with self._lock:
            tokens, last = self._buckets.get(key, (float(bucket.capacity), now))
            tokens = min(float(bucket.capacity), tokens + (now - last) * bucket.refill_per_second)
            if tokens >= 1.0:
                tokens -= 1.0
                self._buckets[key] = (tokens, now)
                return True, int(tokens), 0.0
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / bucket.refill_per_second
            return False, 0, max(wait, 0.0)

    def retry_after(self, wait: float) -> str:
        return str(max(1, math.ceil(max(wait, self._config.retry_after_seconds))))
