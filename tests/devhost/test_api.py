"""HTTP triggers with auth levels, and the Durable HTTP API as the SDK's client uses it."""

from __future__ import annotations

import uuid

import requests

from devhost.host import DevHost
from tests.devhost.conftest import FUNCTION_KEY, MASTER_KEY, Start, wait_status


def test_anonymous_route_needs_no_key(devhost: DevHost) -> None:
    response = requests.get(f"{devhost.base_url}/api/ping?name=dev", timeout=30)
    assert response.status_code == 200
    assert response.text == "pong dev"


def test_function_level_needs_a_key(devhost: DevHost) -> None:
    url = f"{devhost.base_url}/api/instances"
    missing = requests.get(url, timeout=30)
    assert missing.status_code == 401
    assert "key" in missing.json()["Message"]
    assert requests.get(url, params={"code": "wrong"}, timeout=30).status_code == 401
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=30).status_code == 200
    header = requests.get(url, headers={"x-functions-key": MASTER_KEY}, timeout=30)
    assert header.status_code == 200


def test_admin_level_needs_the_master_key(devhost: DevHost) -> None:
    url = f"{devhost.base_url}/api/admin-only"
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=30).status_code == 401
    ok = requests.get(url, params={"code": MASTER_KEY}, timeout=30)
    assert ok.status_code == 200 and ok.text == "admin ok"


def test_unknown_route_and_wrong_method(devhost: DevHost) -> None:
    missing = requests.get(f"{devhost.base_url}/api/nothing-here", timeout=30)
    assert missing.status_code == 404
    assert missing.json()["Message"] == "No function serves /api/nothing-here."
    wrong = requests.get(devhost.url("start/chaining"), timeout=30)
    assert wrong.status_code == 405


def test_check_status_response_links_work(devhost: DevHost) -> None:
    response = requests.post(devhost.url("start/chaining"), json="links", timeout=30)
    assert response.status_code == 202
    links = response.json()
    assert response.headers["Location"] == links["statusQueryGetUri"]
    assert links["statusQueryGetUri"].startswith(f"{devhost.base_url}/runtime/webhooks/")
    assert "taskHub=DevhostTests" in links["statusQueryGetUri"]  # host.json hubName
    status = wait_status(devhost, links["id"])
    assert status["runtimeStatus"] == "Completed"
    # The webhook URLs need the system key (or the master key); without it they are refused.
    bare = links["statusQueryGetUri"].split("?")[0]
    assert requests.get(bare, timeout=30).status_code == 401


def test_sdk_get_status_of_unknown_instance(devhost: DevHost) -> None:
    response = requests.get(devhost.url("status/no-such-instance"), timeout=30)
    assert response.status_code == 404
    assert response.json() == {"found": False}


def test_sdk_get_status_with_history(devhost: DevHost, start: Start) -> None:
    instance_id = start("chaining", "h")
    wait_status(devhost, instance_id)
    payload = requests.get(devhost.url(f"status/{instance_id}"), timeout=30).json()
    assert payload["runtimeStatus"] == "Completed"
    # Folded as the extension folds it: ExecutionStarted, three TaskCompleted, ExecutionCompleted.
    assert payload["historyLength"] == 5


def test_starting_a_running_instance_id_conflicts(devhost: DevHost, start: Start) -> None:
    instance_id = f"single-{uuid.uuid4().hex[:8]}"
    start("approval", {"timeout_ms": 60_000}, instance_id=instance_id)
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    # Through the SDK client: the refusal becomes an exception in the starter (HTTP 500).
    again = requests.post(devhost.url("start/approval", id=instance_id), json={}, timeout=30)
    assert again.status_code == 500
    assert "already exists" in again.json()["Message"]
    # Directly on the API: as the extension, 500 with the provider's exception.
    direct = requests.post(
        f"{devhost.rpc_base_url}orchestrators/approval/{instance_id}", timeout=30
    )
    assert direct.status_code == 500
    assert direct.json() == {
        "Message": "Something went wrong while processing your request",
        "ExceptionMessage": "An Orchestration instance with the status Running already exists.",
        "ExceptionType": "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
    }
    requests.post(devhost.url(f"terminate/{instance_id}"), timeout=30)
    assert wait_status(devhost, instance_id)["runtimeStatus"] == "Terminated"
    # A terminated (non-running) instance id may be started again.
    start("chaining", "again", instance_id=instance_id)
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["name"] == "chaining"


def test_start_unknown_orchestrator_and_bad_json(devhost: DevHost) -> None:
    rpc = devhost.rpc_base_url.rstrip("/")
    unknown = requests.post(f"{rpc}/orchestrators/nope", timeout=30)
    assert unknown.status_code == 400
    assert "'nope' doesn't exist" in unknown.json()["ExceptionMessage"]
    bad = requests.post(f"{rpc}/orchestrators/chaining", data=b"{not json", timeout=30)
    assert bad.status_code == 400
    assert bad.json()["Message"] == "Invalid JSON content."


def test_events_terminate_and_purge_on_finished_instances(devhost: DevHost, start: Start) -> None:
    instance_id = start("chaining", "done")
    wait_status(devhost, instance_id)
    rpc = f"{devhost.rpc_base_url}instances/{instance_id}"
    gone = requests.post(f"{rpc}/raiseEvent/Approval", json=True, timeout=30)
    assert gone.status_code == 410
    assert requests.post(f"{rpc}/terminate", timeout=30).status_code == 410
    purged = requests.post(devhost.url(f"purge/{instance_id}"), timeout=30)
    assert purged.json() == {"deleted": 1}
    assert devhost.store.instance(instance_id) is None
    assert requests.get(rpc, timeout=30).status_code == 404
    assert requests.post(f"{rpc}/terminate", timeout=30).status_code == 404


def test_purging_a_running_instance_deletes_it(devhost: DevHost, start: Start) -> None:
    # As the Azure Storage provider: purging one instance checks no status.
    instance_id = start("approval", {"timeout_ms": 60_000})
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    assert devhost.store.pending_work(instance_id)  # its timer
    rpc = f"{devhost.rpc_base_url}instances/{instance_id}"
    purged = requests.delete(rpc, timeout=30)
    assert purged.status_code == 200
    assert purged.json() == {"instancesDeleted": 1}
    assert devhost.store.instance(instance_id) is None
    assert devhost.store.pending_work(instance_id) == []
    assert requests.get(rpc, timeout=30).status_code == 404


def test_list_and_query_instances(devhost: DevHost, start: Start) -> None:
    prefix = f"list-{uuid.uuid4().hex[:6]}"
    ids = [start("chaining", str(n), instance_id=f"{prefix}-{n}") for n in range(3)]
    for instance_id in ids:
        wait_status(devhost, instance_id)
    listed = requests.get(devhost.url("instances"), timeout=30).json()
    assert set(ids) <= set(listed)
    rpc = f"{devhost.rpc_base_url}instances/"
    by_prefix = requests.get(rpc, params={"instanceIdPrefix": prefix}, timeout=30).json()
    assert sorted(s["instanceId"] for s in by_prefix) == sorted(ids)
    running = requests.get(
        rpc, params={"instanceIdPrefix": prefix, "runtimeStatus": "Running"}, timeout=30
    ).json()
    assert running == []


def test_admin_api_describes_the_host(devhost: DevHost) -> None:
    url = f"{devhost.base_url}/admin/host/status"
    assert requests.get(url, params={"code": FUNCTION_KEY}, timeout=30).status_code == 401
    described = requests.get(url, params={"code": MASTER_KEY}, timeout=30).json()
    names = {f["name"]: f["trigger"] for f in described["functions"]}
    assert names["chaining"] == "orchestrationTrigger"
    assert names["AdminOnly"] == "httpTrigger"
    assert names["every_hour"] == "timerTrigger"


def test_unknown_activity_fails_the_orchestration(devhost: DevHost) -> None:
    instance_id = devhost.engine.start_new("fan_out", None, '{"count": 1, "activity": "nope"}')
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert (
        "The function 'nope' doesn't exist, is disabled, or is not an activity"
        in (status["output"])
    )


def test_activity_called_by_its_python_name_gets_a_hint(devhost: DevHost) -> None:
    # As in Azure, a function renamed with @app.function_name is not found by Python name.
    payload = '{"count": 1, "activity": "renamed_activity"}'
    instance_id = devhost.engine.start_new("fan_out", None, payload)
    status = wait_status(devhost, instance_id)
    assert status["runtimeStatus"] == "Failed"
    assert "is registered as 'Renamed'" in status["output"]


def test_start_and_wait_then_purge_by_filter(devhost: DevHost) -> None:
    rpc = devhost.rpc_base_url.rstrip("/")
    instance_id = f"wait-{uuid.uuid4().hex[:8]}"
    waited = requests.post(
        f"{rpc}/orchestrators/chaining/{instance_id}",
        params={"timeout": "30", "pollingInterval": "1"},
        json='"waited"',
        timeout=60,
    )
    assert waited.status_code == 200, waited.text
    assert waited.json() == ["Hello waited-1!", "Hello waited-2!", "Hello waited-3!"]
    created = devhost.store.instance(instance_id)
    assert created is not None
    missing_from = requests.delete(f"{rpc}/instances/", timeout=30)
    assert missing_from.status_code == 400
    purged = requests.delete(
        f"{rpc}/instances/",
        params={"createdTimeFrom": created.created_at, "createdTimeTo": created.created_at},
        timeout=30,
    )
    assert purged.status_code == 200, purged.text
    assert purged.json()["instancesDeleted"] >= 1
    assert devhost.store.instance(instance_id) is None


def test_unsupported_operations_say_so(devhost: DevHost, start: Start) -> None:
    instance_id = start("chaining", "x")
    wait_status(devhost, instance_id)
    response = requests.post(f"{devhost.rpc_base_url}instances/{instance_id}/rewind", timeout=30)
    assert response.status_code == 501
    assert response.json()["Message"] == "devhost does not support rewind."


def test_suspend_holds_events_until_resume(devhost: DevHost, start: Start) -> None:
    instance_id = start("approval", {"timeout_ms": 60_000})
    devhost.engine.wait_for(instance_id, 30, statuses=("Running",))
    rpc = f"{devhost.rpc_base_url}instances/{instance_id}"
    assert requests.post(f"{rpc}/suspend?reason=hold", timeout=30).status_code == 202
    devhost.engine.wait_for(instance_id, 30, statuses=("Suspended",))
    raised = requests.post(f"{rpc}/raiseEvent/Approval", json="yes", timeout=30)
    assert raised.status_code == 202
    held = requests.get(rpc, timeout=30)
    assert held.status_code == 202
    assert held.json()["runtimeStatus"] == "Suspended"
    assert requests.post(f"{rpc}/resume?reason=go", timeout=30).status_code == 202
    status = wait_status(devhost, instance_id)
    assert status["output"] == {"outcome": "decided", "decision": "yes"}
    kinds = [e["EventType"] for e in devhost.store.history(instance_id)]
    assert kinds.index(19) < kinds.index(20) < kinds.index(15)  # suspended, resumed, event
