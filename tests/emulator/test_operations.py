"""Long-running operations and rate-limit headers in the shapes real traffic shows.

Sources: the azure-cli lab recordings (2024: `{"status": "Running"}` bodies, operation ids
`{yyyyMMdd}-{guid}`, `Location` = the operation URL with `monitor=true`, no `Retry-After`,
`x-ms-ratelimit-remaining-subscription-global-*`), the azure-mgmt-compute grant-access
recording (`DiskOperations`, `properties.output`, the Location answering the output).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import requests

from emulator.lro import new_operation
from tests.emulator.conftest import ALPHA, UBUNTU_2204, lab_id, vm_body
from tests.localworld import LocalWorldClient

LAB = lab_id(*ALPHA)
DTL_OPERATION = re.compile(
    r"/providers/Microsoft\.DevTestLab/locations/westeurope/operations/"
    r"(\d{8})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _call(emulator: LocalWorldClient, method: str, url: str, body: Any = None) -> requests.Response:
    token = emulator.credential.token_for("https://management.azure.com/.default")
    if not url.startswith("https://"):
        url = f"{emulator.endpoint}{url}?api-version=2018-09-15"
    return requests.request(
        method,
        url,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        verify=emulator.ca_file,
        timeout=30,
    )


def _create(emulator: LocalWorldClient, name: str) -> requests.Response:
    emulator.admin("POST", "clock", {"scale": 1})
    return _call(emulator, "PUT", f"{LAB}/virtualmachines/{name}", vm_body(ALPHA, UBUNTU_2204))


def test_devtestlabs_operation_status_is_exactly_the_recorded_body(
    emulator: LocalWorldClient,
) -> None:
    created = _create(emulator, "op-vm")
    url = created.headers["Azure-AsyncOperation"]
    match = DTL_OPERATION.search(url)
    assert match is not None, url
    day = emulator.admin("GET", "clock")["now"][:10].replace("-", "")
    assert match.group(1) == day
    running = _call(emulator, "GET", url)
    assert running.json() == {"status": "Running"}
    assert "Retry-After" not in running.headers
    emulator.admin("POST", "clock", {"advance": 86_400})
    assert _call(emulator, "GET", url).json() == {"status": "Succeeded"}


def test_a_failed_operation_adds_only_the_error(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "faults",
        {
            "kind": "fail_operation",
            "method": "PUT",
            "code": "AllocationFailed",
            "message": "No room.",
        },
    )
    url = _create(emulator, "op-fail").headers["Azure-AsyncOperation"]
    emulator.admin("POST", "clock", {"advance": 86_400})
    assert _call(emulator, "GET", url).json() == {
        "status": "Failed",
        "error": {"code": "AllocationFailed", "message": "No room."},
    }


def test_delete_location_is_the_operation_with_monitor_first(emulator: LocalWorldClient) -> None:
    _create(emulator, "op-del")
    emulator.admin("POST", "clock", {"advance": 86_400})
    deleted = _call(emulator, "DELETE", f"{LAB}/virtualmachines/op-del")
    assert deleted.status_code == 202 and not deleted.content
    status_url, location = deleted.headers["Azure-AsyncOperation"], deleted.headers["Location"]
    assert location == status_url.replace("?api-version=", "?monitor=true&api-version=")
    assert "Retry-After" not in deleted.headers
    running = _call(emulator, "GET", location)
    assert running.status_code == 202 and running.headers["Location"] == location
    emulator.admin("POST", "clock", {"advance": 86_400})
    done = _call(emulator, "GET", location)
    assert (done.status_code, done.content) == (200, b"")


@pytest.mark.parametrize(
    ("method", "present", "absent"),
    [
        (
            "GET",
            ["x-ms-ratelimit-remaining-subscription-global-reads"],
            ["x-ms-ratelimit-remaining-subscription-reads"],
        ),
        (
            "PUT",
            [
                "x-ms-ratelimit-remaining-subscription-global-writes",
                "x-ms-ratelimit-remaining-subscription-writes",
            ],
            [],
        ),
        (
            "DELETE",
            [
                "x-ms-ratelimit-remaining-subscription-global-deletes",
                "x-ms-ratelimit-remaining-subscription-deletes",
            ],
            [],
        ),
    ],
)
def test_rate_limit_headers_per_kind(
    emulator: LocalWorldClient, method: str, present: list[str], absent: list[str]
) -> None:
    path = f"{LAB}/virtualmachines/op-rate"
    response = _call(
        emulator, method, path, vm_body(ALPHA, UBUNTU_2204) if method == "PUT" else None
    )
    for name in present:
        assert int(response.headers[name]) >= 0, name
    for name in absent:
        assert name not in response.headers, name


def test_scheduled_transition_moves_an_operation_on_the_simulated_clock() -> None:
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    operation = new_operation(
        now=start,
        subscription="s",
        location="West Europe",
        provider="Microsoft.Compute",
        name="beginGetAccess",
        resource_id="/x",
    )
    assert operation.location == "westeurope"
    assert re.fullmatch(r"[0-9a-f-]{36}", operation.id)
    assert operation.status_path().endswith(f"/locations/westeurope/DiskOperations/{operation.id}")
    operation.result = {"accessSAS": "https://sas"}
    operation.schedule(start + dt.timedelta(seconds=10))
    operation.advance(start + dt.timedelta(seconds=9))
    assert operation.status_body()["status"] == "Running"
    assert "endTime" not in operation.status_body()
    operation.advance(start + dt.timedelta(seconds=30))
    body = operation.status_body()
    assert body["status"] == "Succeeded"
    assert body["endTime"] == "2026-12-01T00:00:10.0000000+00:00"
    assert body["properties"] == {"output": {"accessSAS": "https://sas"}}
    assert body["name"] == operation.id
    with pytest.raises(ValueError):
        operation.schedule(start, "Running")
