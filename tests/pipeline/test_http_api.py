"""The manual HTTP API: function-key auth, clear JSON 4xx, dry runs that only plan."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pipeline.conftest import World
from tests.pipeline.world import FUNCTION_KEY, FactoryHost, running_host


@pytest.fixture
def host(example_world: World, tmp_path: Path) -> Iterator[FactoryHost]:
    yield from running_host(example_world.info, example_world.queue_connection, tmp_path)


def test_start_needs_the_function_key(host: FactoryHost) -> None:
    response = requests.post(f"{host.url}/api/runs", json={}, timeout=30)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (b"{not json", "InvalidJson", "the body is not JSON"),
        (b'{"images": "win2022-base"}', "InvalidOptions", "images"),
        (b'{"forse": true}', "InvalidOptions", "forse"),
        (b'{"images": ' + b"[" * 1000 + b"]" * 1000 + b"}", "InvalidJson", "nests deeper"),
        (b'{"images": ["\xffwin"]}', "InvalidJson", "not UTF-8"),
        (b'{"force": ' + b"9" * 5000 + b"}", "InvalidJson", "integer of 5000 digits"),
        (b'{"force": 1e999}', "InvalidJson", "too large for a number"),
        (b'{"images": ["win2022-base", "nope", "win2O22-base"]}', "UnknownImages", "'nope'"),
        (b'{"images": ["win2022-bse"]}', "UnknownImages", "(did you mean 'win2022-base'?)"),
    ],
)
def test_bad_requests_get_a_json_reason(
    host: FactoryHost, body: bytes, code: str, fragment: str
) -> None:
    response = requests.post(
        f"{host.url}/api/runs",
        data=body,
        headers={"x-functions-key": FUNCTION_KEY, "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and fragment in error["message"], error
    assert "\n" not in error["message"] and "Traceback" not in error["message"]


def test_unknown_run_is_404(host: FactoryHost) -> None:
    status = requests.get(
        f"{host.url}/api/runs/no-such-run", headers={"x-functions-key": FUNCTION_KEY}, timeout=30
    )
    assert status.status_code == 404
    assert status.json()["error"]["code"] == "RunNotFound"


def test_dry_run_plans_and_changes_nothing(example_world: World, host: FactoryHost) -> None:
    example_world.admin("DELETE", "requests")
    status = host.wait_run(host.start_run(dryRun=True, images=["ubuntu2204-base"], force=True))
    assert status["status"] == "Completed", status
    report = status["report"]
    assert report["dryRun"] is True
    assert [b["family"] for b in report["plan"]["builds"]] == ["ubuntu2204-base"]
    assert report["built"] == [] and report["distributed"] == []
    methods = example_world.admin("GET", "requests")["byMethod"]
    assert not {m for m in methods if m in ("PUT", "PATCH", "DELETE")}, methods


@pytest.fixture
def own_host(fresh_world: World, tmp_path: Path) -> Iterator[FactoryHost]:
    """A host over a world of its own: these runs build, and the session's world stays as
    the tests after them expect it."""
    yield from running_host(fresh_world.info, fresh_world.queue_connection, tmp_path)


def _post(host: FactoryHost, key: str, **options: Any) -> requests.Response:
    headers = {"x-functions-key": FUNCTION_KEY, "Idempotency-Key": key}
    return requests.post(f"{host.url}/api/runs", json=options, headers=headers, timeout=30)


@pytest.mark.parametrize("options", [{"dryRun": True}, {"images": ["ubuntu2204-base"]}])
def test_a_retry_with_the_same_key_after_the_run_ended_returns_that_run(
    own_host: FactoryHost, options: dict[str, Any]
) -> None:
    host = own_host
    first = _post(host, "retry-after-the-end", **options)
    assert first.status_code == 202 and first.json()["started"] is True, first.text
    run_id = first.json()["id"]
    ended = host.wait_run(run_id)
    assert ended["status"] == "Completed", ended

    again = _post(host, "retry-after-the-end", **options)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == run_id and again.json()["started"] is False, again.text
    # The first run's record stands: same creation, same report, nothing started again.
    after = host.run_status(run_id)
    assert after["status"] == "Completed"
    assert (after["createdTime"], after["report"]) == (ended["createdTime"], ended["report"])

    other = _post(host, "another-key", **options)
    assert other.status_code == 202 and other.json()["id"] != run_id, other.text
    assert host.wait_run(other.json()["id"])["status"] == "Completed"


def test_a_forced_run_is_refused_while_another_run_is_going(own_host: FactoryHost) -> None:
    host = own_host
    going = _post(host, "forced-first", images=["ubuntu2204-base"], force=True)
    assert going.status_code == 202 and going.json()["started"] is True, going.text
    refused = _post(host, "forced-second", images=["ubuntu2204-base"], force=True)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "RunInProgress"
    assert going.json()["id"] in error["message"], error
    assert host.wait_run(going.json()["id"])["status"] == "Completed"
    # Once that run is over a forced run is accepted, even before the queue has closed.
    accepted = _post(host, "forced-second", images=["ubuntu2204-base"], force=True)
    assert accepted.status_code == 202 and accepted.json()["started"] is True, accepted.text
    assert host.wait_run(accepted.json()["id"])["status"] == "Completed"


def test_requests_without_a_key_are_runs_of_their_own(host: FactoryHost) -> None:
    """Two identical requests in the same second, without an Idempotency-Key, are two
    runs: neither finds nor replaces the other's record."""
    ids = [host.start_run(dryRun=True) for _ in range(2)]
    assert ids[0] != ids[1]
    assert all(host.wait_run(i)["status"] == "Completed" for i in ids)
