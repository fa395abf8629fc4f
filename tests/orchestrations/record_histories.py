"""Record the stored histories the replay tests replay: run the example factory's first
run on the local world and keep, for each orchestrator, the history of one finished
instance.

    .venv/bin/python -m tests.orchestrations.record_histories

Re-record only when an orchestrator's change is meant to break replay of instances that
were in flight when it was deployed (and say so in the commit): the replay tests exist to
make that a decision, not an accident.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from devhost.host import DB_FILE
from devhost.store import Store
from scripts.local_settings import storage_connection
from tests.pipeline.world import FactoryHost, start_world

HERE = Path(__file__).resolve().parent / "histories"
ORCHESTRATORS = (
    "factory_run",
    "build_image",
    "confirm_vm_deleted",
    "distribute_batch",
    "distribute_image",
)


def record(work: Path) -> dict[str, dict[str, Any]]:
    runner, info = start_world(work / "world")
    try:
        host = FactoryHost(info, storage_connection(info), work / "host").start()
        try:
            status = host.wait_run(host.start_run(), timeout=600)
            assert status["status"] == "Completed", status
        finally:
            host.stop()
    finally:
        runner.stop()
    store = Store(work / "host" / "devhost" / DB_FILE)
    kept: dict[str, dict[str, Any]] = {}
    for instance in store.instances():
        if instance.name in ORCHESTRATORS and instance.status == "Completed":
            kept.setdefault(
                instance.name,
                {
                    "name": instance.name,
                    "instanceId": instance.instance_id,
                    "parentInstanceId": instance.parent_instance_id,
                    "input": instance.input,
                    "history": store.history(instance.instance_id),
                },
            )
    missing = set(ORCHESTRATORS) - set(kept)
    if missing:
        raise SystemExit(f"no finished instance of {sorted(missing)}")
    return kept


# The recording machine's work folder, as the stored histories name it instead.
WORK = "/recorded-work"


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        kept = record(Path(work))
    HERE.mkdir(exist_ok=True)
    for name, stored in kept.items():
        path = HERE / f"{name}.json"
        text = json.dumps(stored, indent=1, sort_keys=True).replace(work, WORK)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"{path.name}: {len(stored['history'])} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
