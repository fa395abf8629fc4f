"""Simulated time: a clock that runs `scale` simulated seconds per wall-clock second.

With `scale=6000` one simulated minute takes 10 ms, so a 40-minute build finishes in
0.4 s of wall time. Tests may also move the clock by hand (`advance`).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


def parse_scale(text: str | float) -> float:
    """Parse a clock scale: a number (simulated seconds per second) or `1m=10ms`."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _RATIO.match(text.lower())
        if match is None:
            try:
                value = float(text)
            except ValueError:
                raise ValueError(
                    f"clock scale {text!r} is neither a number nor a ratio like '1m=10ms'"
                ) from None
        else:
            sim_amount, sim_unit, wall_amount, wall_unit = match.groups()
            if sim_unit not in _UNITS or wall_unit not in _UNITS:
                raise ValueError(f"clock scale {text!r} uses an unknown unit (ms, s, m, h)")
            value = (float(sim_amount) * _UNITS[sim_unit]) / (
                float(wall_amount) * _UNITS[wall_unit]
            )
    if value <= 0:
        raise ValueError(f"clock scale must be positive, not {value}")
    return value


class SimClock:
    """Simulated UTC time; thread-safe."""

    def __init__(self, scale: float = 1.0, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._scale = scale
        self._base_sim = start or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self._base_wall = time.monotonic()

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> dt.datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._base_wall) * self._scale
            return self._base_sim + dt.timedelta(seconds=elapsed)

    def _rebase(self) -> None:
        now_wall = time.monotonic()
        self._base_sim += dt.timedelta(seconds=(now_wall - self._base_wall) * self._scale)
        self._base_wall = now_wall

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError(f"clock scale must be positive, not {scale}")
        with self._lock:
            self._rebase()
            self._scale = scale

    def advance(self, seconds: float) -> dt.datetime:
        """Jump forward by `seconds` of simulated time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._rebase()
            self._base_sim += dt.timedelta(seconds=seconds)
            return self._base_sim

    def restore(self, at: dt.datetime) -> None:
        """Continue from a saved simulated time (after a restart with persistence)."""
        with self._lock:
            self._base_sim = at
            self._base_wall = time.monotonic()

    def wall_seconds(self, simulated_seconds: float) -> float:
        """How long `simulated_seconds` take in wall time."""
        return simulated_seconds / self._scale
