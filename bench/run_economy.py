"""API economy of a run: ARM requests of a first run, an unchanged run, and a one-image
change, measured on the local world in one go. Prints counts and ratios."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.pipeline.world import FactoryHost, start_world


def _counts(endpoint: str, ca: str) -> dict[str, Any]:
    response = requests.get(f"{endpoint}/_admin/requests", verify=ca, timeout=30)
    return dict(response.json())


def _reset(endpoint: str, ca: str) -> None:
    requests.delete(f"{endpoint}/_admin/requests", verify=ca, timeout=30)


def _writes(counts: dict[str, Any]) -> int:
    return sum(n for m, n in counts["byMethod"].items() if m in ("PUT", "PATCH", "DELETE"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        runner, info = start_world(work / "world")
        account = "devstoreaccount1" if "devstoreaccount1" in info.storage_accounts else ""
        from emulator.azurite import AzuriteEndpoints

        queue = AzuriteEndpoints(
            info.blob_port, info.queue_port, info.table_port, Path(info.ca_file),
            tuple(info.storage_accounts),
        ).connection_string(account or info.storage_accounts[0])  # fmt: skip
        host = FactoryHost(info, queue, work / "host").start()
        rows = []
        try:
            for label, options, change in (
                ("first run (4 images, 8 distributions)", {}, None),
                ("unchanged run", {}, None),
                ("one definition changed", {}, "ubuntu2204-base"),
            ):
                if change:
                    path = host.config_dir / "images" / f"{change}.yaml"
                    path.write_text(path.read_text().replace("Standard_D2s_v5", "Standard_D4s_v5"))
                _reset(info.endpoint, info.ca_file)
                started = time.perf_counter()
                status = host.wait_run(host.start_run(**options))
                seconds = time.perf_counter() - started
                counts = _counts(info.endpoint, info.ca_file)
                rows.append((label, counts["total"], _writes(counts), seconds, status["status"]))
        finally:
            host.stop()
            runner.stop()
    first = rows[0]
    for label, total, writes, seconds, state in rows:
        print(
            f"  {label}: {total} ARM requests ({writes} writes), {seconds:.1f} s wall, {state}; "
            f"{total / first[1]:.2f}x the first run's requests"
        )


if __name__ == "__main__":
    main()
