"""devhost: the cost of a fan-out/fan-in of N activities, for N = 100, 1,000 and 5,000.

Runs the test app's `fan_out` orchestrator in an in-process devhost (real SDK replay,
real SQLite) and prints, per N: the replays, the history events the SDK walked in total,
the CPU time spent inside the orchestrator function, and the process CPU time. The
ratios per activity show whether the cost grows linearly (a ratio near 1 between sizes)
or quadratically (a ratio that grows with N). Not a test: it measures, it asserts nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from devhost.host import DevHost

APP_DIR = Path(__file__).resolve().parent.parent / "tests" / "devhost" / "app"
SIZES = (100, 1_000, 5_000)


def run(size: int, root: Path) -> dict[str, float]:
    settings = root / f"settings-{size}.json"
    settings.write_text(
        json.dumps(
            {
                "Values": {
                    "DEVHOST_FUNCTION_KEY": "bench",
                    "DEVHOST_MASTER_KEY": "bench-master",
                    "TEST_TIMER_SCHEDULE": "0 0 0 1 1 *",
                    "TEST_QUEUE": "unused",
                }
            }
        ),
        encoding="utf-8",
    )
    with DevHost(
        APP_DIR,
        port=0,
        state_dir=root / f"state-{size}",
        settings_file=settings,
        queues=False,
        timers=False,
    ) as host:
        cpu = time.process_time()
        wall = time.perf_counter()
        instance_id = host.engine.start_new("fan_out", None, json.dumps({"count": size}))
        instance = host.engine.wait_for(instance_id, timeout=1800)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        output = json.loads(instance.output or "{}")
        if instance.status != "Completed" or output.get("count") != size:
            raise RuntimeError(f"fan-out of {size} ended {instance.status}: {instance.output}")
        stats = host.engine.stats
        return {
            "size": size,
            "replays": instance.replays,
            "events": stats.events_replayed,
            "replay_cpu": stats.replay_cpu_seconds,
            "cpu": cpu,
            "wall": wall,
        }


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    sizes = tuple(int(a) for a in sys.argv[1:] if a.isdigit()) or SIZES
    with tempfile.TemporaryDirectory(prefix="devhost-bench-") as tmp:
        results = [run(size, Path(tmp)) for size in sizes]
    header = (
        f"{'N':>6} {'replays':>8} {'events walked':>14} {'replay CPU s':>13} "
        f"{'process CPU s':>14} {'wall s':>8} {'events/N':>9} {'CPU ms/N':>9}"
    )
    print(header)
    for r in results:
        print(
            f"{r['size']:>6.0f} {r['replays']:>8.0f} {r['events']:>14.0f} "
            f"{r['replay_cpu']:>13.3f} {r['cpu']:>14.3f} {r['wall']:>8.2f} "
            f"{r['events'] / r['size']:>9.1f} {1000 * r['cpu'] / r['size']:>9.3f}"
        )
    base = results[0]
    print("Growth against the smallest run (1.0 = linear; N/N0 would mean quadratic):")
    for r in results[1:]:
        scale = r["size"] / base["size"]
        events = (r["events"] / r["size"]) / (base["events"] / base["size"])
        replay = (r["replay_cpu"] / r["size"]) / max(1e-9, base["replay_cpu"] / base["size"])
        cpu = (r["cpu"] / r["size"]) / max(1e-9, base["cpu"] / base["size"])
        print(
            f"  N x{scale:.0f}: events walked per activity x{events:.2f}, "
            f"replay CPU per activity x{replay:.2f}, process CPU per activity x{cpu:.2f}"
        )


if __name__ == "__main__":
    main()
