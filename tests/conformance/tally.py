"""How many real interactions the conformance suite replayed, per source (for the summary)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    sources: dict[str, int] = field(default_factory=dict)  # source -> not emulated
    replays: Counter[str] = field(default_factory=Counter)
    matches: Counter[str] = field(default_factory=Counter)
    lead_flows: dict[str, str] = field(default_factory=dict)

    def declare(self, source: str, not_emulated: int) -> None:
        self.sources[source] = not_emulated

    def replayed(self, source: str) -> None:
        self.replays[source] += 1

    def matched(self, source: str) -> None:
        self.matches[source] += 1

    def lead(self, flow: str, reason: str) -> None:
        self.lead_flows[flow] = reason

    def lines(self) -> list[str]:
        if not self.replays:
            return []
        total, matched = sum(self.replays.values()), sum(self.matches.values())
        lines = [
            f"replayed {total} real interactions against the emulator, {matched} matched "
            f"the recording, from {len(self.replays)} of {len(self.sources)} sources:"
        ]
        for source in sorted(self.sources):
            lines.append(
                f"  {self.replays[source]:4d} replayed, {self.matches[source]:4d} matched, "
                f"{self.sources[source]:4d} not emulated  {source}"
            )
        lines.append(
            "expected to diverge until the lead's changes land (strict xfail): "
            + ("" if self.lead_flows else "none")
        )
        lines += [f"  {flow}: {reason}" for flow, reason in sorted(self.lead_flows.items())]
        return lines


TALLY = Tally()
