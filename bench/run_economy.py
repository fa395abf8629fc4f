"""API economy of a run: ARM writes of a first run, an unchanged run and a one-image
change against the minimum their plans need (tests/pipeline/economy.py says what that is
under the real semantics: each upload URI is one write), measured on the local world in
one go. Prints counts and ratios."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from emulator.azurite import AzuriteEndpoints
from shared.git.config_source import load_directory
from shared.planning.plan import Plan
from tests.pipeline.economy import arm_writes, minimum_writes, request_counts, reset_counts
from tests.pipeline.world import FactoryHost, start_world

SETTLE_SECONDS = 3.0  # the retirement worker deletes after the run: wait until it is quiet


def _settled(endpoint: str, ca_file: str) -> dict[str, object]:
    counts = request_counts(endpoint, ca_file)
    while True:
        time.sleep(SETTLE_SECONDS)
        again = request_counts(endpoint, ca_file)
        if again["total"] == counts["total"]:
            return again
        counts = again


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runner, info = start_world(work / "world")
        queue = AzuriteEndpoints(
            info.blob_port, info.queue_port, info.table_port, Path(info.ca_file),
            tuple(info.storage_accounts),
        ).connection_string(info.storage_accounts[0])  # fmt: skip
        host = FactoryHost(info, queue, work / "host").start()
        rows = []
        try:
            for label, change in (
                ("first run", None),
                ("unchanged run", None),
                ("one definition changed", "ubuntu2204-base"),
            ):
                if change:
                    path = host.config_dir / "images" / f"{change}.yaml"
                    path.write_text(path.read_text().replace("Standard_D2s_v5", "Standard_D4s_v5"))
                reset_counts(info.endpoint, info.ca_file)
                started = time.perf_counter()
                status = host.wait_run(host.start_run())
                seconds = time.perf_counter() - started
                counts = _settled(info.endpoint, info.ca_file)
                plan = Plan.model_validate(status["report"]["plan"])
                minimum = minimum_writes(plan, load_directory(host.config_dir))
                rows.append((label, counts, minimum, seconds, status["status"]))
        finally:
            host.stop()
            runner.stop()
    for label, counts, minimum, seconds, state in rows:
        writes = arm_writes(counts)
        ratio = f"{writes / minimum:.2f}x the minimum" if minimum else "minimum 0"
        print(
            f"  {label}: {writes} ARM writes, plan minimum {minimum} ({ratio}); "
            f"{counts['total']} ARM requests, {seconds:.1f} s wall, {state}"
        )


if __name__ == "__main__":
    main()
