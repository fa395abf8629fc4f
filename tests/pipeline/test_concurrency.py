"""`concurrency.copiesPerSubscription` holds: with 1, no two distributions into the same
subscription overlap, while distributions into different subscriptions still run."""

from __future__ import annotations

import itertools
import shutil
from datetime import datetime
from pathlib import Path

from tests.pipeline.conftest import World
from tests.pipeline.world import EXAMPLE, FactoryHost


def test_one_distribution_at_a_time_per_subscription(fresh_world: World, tmp_path: Path) -> None:
    work = tmp_path / "host"
    shutil.copytree(EXAMPLE, work / "config")
    settings = work / "config" / "factory.yaml"
    settings.write_text(
        settings.read_text().replace("copiesPerSubscription: 4", "copiesPerSubscription: 1")
    )
    host = FactoryHost(fresh_world.info, fresh_world.queue_connection, work).start()
    try:
        status = host.wait_run(host.start_run())
    finally:
        host.stop()
    assert status["status"] == "Completed", status
    assert not status["report"]["failed"], status["report"]["failed"]
    assert len(status["report"]["distributed"]) == 8

    # The custom image creations of the distributions, per subscription, in simulated time.
    operations = fresh_world.admin("GET", "state")["world"]["operations"].values()
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for op in operations:
        resource = op["resource_id"]
        if "/customimages/" in resource and not resource.endswith("-gate") and op["end"]:
            span = (datetime.fromisoformat(op["start"]), datetime.fromisoformat(op["end"]))
            spans.setdefault(op["subscription"], []).append(span)
    assert sum(len(s) for s in spans.values()) == 8, spans
    assert len(spans) == 2
    for subscription, windows in spans.items():
        windows.sort()
        for (_, end), (start, _) in itertools.pairwise(windows):
            assert end <= start, f"two distributions overlapped in {subscription}"
