"""A run's end reaches its receivers on the local world: factory.yaml names them by app
setting, devhost's activity posts each the payload its service documents, with the run's
failure (step and reason) in it; a receiver that refuses is a warning in the report, and
the run still completes. A run that cannot read its inventory does nothing, and says so to
the receivers that hear only of failures."""

from __future__ import annotations

from pathlib import Path

from shared.config.loading import load_directory
from tests.pipeline.conftest import World, completed_run
from tests.pipeline.world import EXAMPLE, FactoryHost
from tests.run.receiver import check_cloud_event, check_slack, check_teams, receiver

FACTORY = load_directory(EXAMPLE)
ALLOCATION_FAILED = {
    "kind": "fail_operation",
    "operation": "Microsoft.DevTestLab/labs/virtualmachines/write",
    "path_contains": "/virtualmachines/ubuntu2204base-",
    "code": "AllocationFailed",
    "message": "Allocation failed. We do not have sufficient capacity.",
}
LABS_UNREADABLE = {  # every read of a lab fails, retries and all: the catalog's too
    "kind": "error",
    "operation": "Microsoft.DevTestLab/labs/read",
    "status": 503,
    "retry_after": 0.1,
}
NOTIFICATIONS = """
notifications:
  - kind: teams
    urlSetting: TEAMS_URL
  - kind: slack
    urlSetting: SLACK_URL
    on: failure
  - kind: cloudevents
    urlSetting: EVENTS_URL
  - kind: teams
    urlSetting: GONE_URL
"""


def test_a_failed_run_is_told_to_every_receiver(fresh_world: World, tmp_path: Path) -> None:
    fresh_world.admin("POST", "faults", ALLOCATION_FAILED)
    with receiver() as hooks:
        values = {
            "TEAMS_URL": hooks.answer("/teams", 200),
            "SLACK_URL": hooks.answer("/slack", 200),
            "EVENTS_URL": hooks.answer("/events", 503, 202),  # retried
            "GONE_URL": hooks.answer("/gone", 410),  # not retried: a warning
        }
        host = FactoryHost(
            fresh_world.info, fresh_world.queue_connection, tmp_path / "host", values=values
        )
        with (host.config_dir / "factory.yaml").open("a") as f:
            f.write(NOTIFICATIONS)
        host.start()
        try:
            instance = host.start_run()
            status = host.wait_run(instance)
        finally:
            host.stop()
    assert status["status"] == "Completed", (status, host.log_tail())
    report = status["report"]
    assert {f["family"] for f in report["failed"] if not f["lab"]} == {"ubuntu2204-base"}

    (teams,) = hooks.at("/teams")
    card = check_teams(teams)
    shown = str(card["body"])
    assert instance in shown and "create build VM" in shown and "AllocationFailed" in shown
    # a configuration directory has no commit; a repository's run names it
    assert {"title": "Commit", "value": report["commit"] or "unknown"} in card["body"][1]["facts"]

    (slack,) = hooks.at("/slack")  # failure only: this run failed
    assert "AllocationFailed" in str(check_slack(slack)["blocks"])

    events = hooks.at("/events")
    assert len(events) == 2
    assert [check_cloud_event(e)["id"] for e in events] == [instance, instance]
    data = events[-1].body["data"]
    assert {b["image"] for b in data["built"]} == {
        f"{b['family']}-{b['version']}" for b in report["built"]
    }
    assert len(data["distributed"]) == len(report["distributed"])
    assert data["failed"][0]["step"] == "create build VM"

    assert len(hooks.at("/gone")) == 1
    gone = [w for w in report["warnings"] if "GONE_URL" in w]
    assert len(gone) == 1 and "HTTP 410" in gone[0], report["warnings"]
    assert not any(hooks.url in w for w in report["warnings"])


def test_a_run_that_cannot_read_its_inventory_is_told_as_failed(
    fresh_world: World, tmp_path: Path
) -> None:
    fresh_world.admin("POST", "faults", LABS_UNREADABLE)
    with receiver() as hooks:
        values = {"SLACK_URL": hooks.answer("/slack", 200)}
        host = FactoryHost(
            fresh_world.info, fresh_world.queue_connection, tmp_path / "host", values=values
        )
        with (host.config_dir / "factory.yaml").open("a") as f:
            f.write("notifications:\n  - kind: slack\n    urlSetting: SLACK_URL\n    on: failure\n")
        report = completed_run(host)["report"]
    assert report["plan"] is None and not report["built"] and not report["distributed"]
    (warning,) = report["warnings"]
    assert warning.startswith("the inventory could not be read, nothing was done"), warning
    writes = fresh_world.admin("GET", "requests")["byOperation"]
    assert not [op for op in writes if op.endswith(("/write", "/delete"))], writes

    (slack,) = hooks.at("/slack")  # failure only: a run that did nothing failed
    assert "the inventory could not be read" in str(check_slack(slack)["blocks"])
