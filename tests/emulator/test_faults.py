"""Each fault kind reaches the real SDK clients the way the real service's would."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from tests.emulator.conftest import ALPHA, FACTORY, SUB1, UBUNTU_2204, Lab, artifact, vm_body
from tests.localworld import LocalWorldClient


def _statuses(emulator: LocalWorldClient) -> dict[str, int]:
    counts: dict[str, int] = emulator.admin("GET", "requests")["byStatus"]
    return counts


def test_throttle_with_retry_after_is_retried_by_the_sdk(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "faults",
        {"kind": "throttle", "resource_type": "Microsoft.DevTestLab/labs", "count": 1,
         "retry_after": 1},
    )  # fmt: skip
    dtl: Any = emulator.devtestlabs(SUB1)
    lab = dtl.labs.get(FACTORY.group, FACTORY.name)
    assert lab.name == "factory-lab"
    assert _statuses(emulator) == {"429": 1, "200": 1}


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_by_the_sdk(emulator: LocalWorldClient, status: int) -> None:
    emulator.admin(
        "POST", "faults", {"kind": "error", "status": status, "method": "GET", "count": 2}
    )
    dtl: Any = emulator.devtestlabs(SUB1)
    assert [s.name for s in dtl.artifact_sources.list(FACTORY.group, FACTORY.name)] == [
        "public repo"
    ]
    assert _statuses(emulator) == {str(status): 2, "200": 1}


def test_server_error_without_retries_reaches_the_caller(emulator: LocalWorldClient) -> None:
    emulator.admin("POST", "faults", {"kind": "error", "status": 503, "count": 1})
    dtl: Any = emulator.devtestlabs(SUB1, retry_total=0)
    with pytest.raises(HttpResponseError) as failed:
        dtl.labs.get(FACTORY.group, FACTORY.name)
    assert failed.value.status_code == 503
    assert failed.value.error is not None and failed.value.error.code == "ServiceUnavailable"


def test_failed_operation_raises_with_its_error_code(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "faults",
        {"kind": "fail_operation", "resource_type": "Microsoft.DevTestLab/labs/virtualmachines",
         "method": "PUT", "count": 1, "code": "AllocationFailed",
         "message": "Allocation failed: no capacity for Standard_D2s_v3 in westeurope."},
    )  # fmt: skip
    dtl: Any = emulator.devtestlabs(SUB1)
    poller = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "doomed", vm_body(ALPHA, image=UBUNTU_2204)
    )
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert failed.value.error is not None and failed.value.error.code == "AllocationFailed"
    assert "no capacity" in str(failed.value.error.message)
    vm = dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "doomed")
    assert vm.provisioning_state == "Failed"
    # The fault fired once: the next create succeeds.
    again = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "fine", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    assert again.provisioning_state == "Succeeded"


def test_artifact_failure_shows_per_artifact_status(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "faults",
        {"kind": "artifact_failure", "artifact": "windows-git", "count": 1,
         "message": "The Git installer exited with code 1603."},
    )  # fmt: skip
    dtl: Any = emulator.devtestlabs(SUB1)
    body = vm_body(
        FACTORY,
        artifacts=[
            artifact(FACTORY, "windows-7zip"),
            artifact(FACTORY, "windows-git"),
            artifact(FACTORY, "windows-sysprep"),
        ],
    )
    poller = dtl.virtual_machines.begin_create_or_update(FACTORY.group, FACTORY.name, "art", body)
    with pytest.raises(HttpResponseError) as failed:
        poller.result()
    assert failed.value.error is not None
    assert failed.value.error.code == "VMExtensionProvisioningError"
    assert "windows-git" in str(failed.value.error.message)
    vm = dtl.virtual_machines.get(
        FACTORY.group, FACTORY.name, "art", expand="properties($expand=artifacts)"
    )
    assert [a.status for a in vm.artifacts] == ["Succeeded", "Failed", "Skipped"]
    assert vm.artifacts[1].deployment_status_message == "The Git installer exited with code 1603."
    assert vm.artifact_deployment_status.deployment_status == "Failed"
    assert vm.artifact_deployment_status.artifacts_applied == 1
    assert vm.last_known_power_state == "Running"


def _refused_ubuntu_vm(emulator: LocalWorldClient, lab: Lab, name: str) -> HttpResponseError:
    """The error that creating an Ubuntu VM in `lab` is refused with."""
    dtl: Any = emulator.devtestlabs(lab.subscription)
    with pytest.raises(HttpResponseError) as refused:
        dtl.virtual_machines.begin_create_or_update(
            lab.group, lab.name, name, vm_body(lab, image=UBUNTU_2204)
        )
    return refused.value


def test_quota_exceeded_names_the_quota(emulator: LocalWorldClient) -> None:
    emulator.admin("POST", "quota", {"subscription": SUB1, "location": "westeurope", "vcpus": 2})
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "first", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    refused = _refused_ubuntu_vm(emulator, FACTORY, "second")
    assert refused.status_code == 409
    assert refused.error is not None and refused.error.code == "QuotaExceeded"
    message = str(refused.error.message)
    assert "Total Regional Cores quota" in message and "Current Limit: 2" in message


def test_quota_fault_on_demand(emulator: LocalWorldClient) -> None:
    emulator.admin("POST", "faults", {"kind": "quota", "count": 1})
    refused = _refused_ubuntu_vm(emulator, ALPHA, "q")
    assert refused.status_code == 409
    assert "Cores quota" in str(refused)


def test_lab_policy_limits_vm_count(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    state = emulator.admin("GET", "state")
    limit = state["world"]["subscriptions"][SUB1]["resource_groups"]["rg-devtest-weu"]["labs"][
        "team-alpha"
    ]["max_vms_allowed_per_lab"]
    assert limit == 20
    emulator.admin("POST", "quota", {"subscription": SUB1, "location": "westeurope", "vcpus": 999})
    for index in range(limit):
        dtl.virtual_machines.begin_create_or_update(
            ALPHA.group,
            ALPHA.name,
            f"p{index}",
            vm_body(ALPHA, image=UBUNTU_2204, size="Standard_B2s"),
        )
    refused = _refused_ubuntu_vm(emulator, ALPHA, "one-too-many")
    assert refused.status_code == 409
    assert "MaxVmsAllowedPerLab" in str(refused)


def test_slow_operation_takes_longer_in_simulated_time(emulator: LocalWorldClient) -> None:
    emulator.admin(
        "POST",
        "faults",
        {"kind": "slow", "factor": 1000, "path_contains": "/virtualmachines/slow", "count": 1},
    )
    dtl: Any = emulator.devtestlabs(SUB1)
    slow = dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "slow", vm_body(ALPHA, image=UBUNTU_2204)
    )
    dtl.virtual_machines.begin_create_or_update(
        ALPHA.group, ALPHA.name, "quick", vm_body(ALPHA, image=UBUNTU_2204)
    ).result()
    assert (
        dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "slow").provisioning_state == "Creating"
    )
    assert not slow.done()
    emulator.admin("POST", "clock", {"advance": 600 * 1000})
    assert slow.result().provisioning_state == "Succeeded"


def test_token_bucket_runs_dry_with_429_and_headers(emulator: LocalWorldClient) -> None:
    bucket = {"capacity": 3, "refill_per_second": 0.01}
    emulator.admin(
        "POST",
        "throttling",
        {"reads": bucket, "writes": bucket, "deletes": bucket, "retry_after_seconds": 7},
    )
    dtl: Any = emulator.devtestlabs(SUB1, retry_total=0)
    remaining = []
    for _ in range(3):
        response = dtl.labs.get(FACTORY.group, FACTORY.name, cls=lambda r, d, h: r.http_response)
        remaining.append(
            int(response.headers["x-ms-ratelimit-remaining-subscription-global-reads"])
        )
    assert remaining == [2, 1, 0]
    with pytest.raises(HttpResponseError) as throttled:
        dtl.labs.get(FACTORY.group, FACTORY.name)
    assert throttled.value.status_code == 429
    assert throttled.value.response is not None
    refused: Any = throttled.value.response
    assert int(refused.headers["Retry-After"]) >= 7
    assert throttled.value.error is not None
    assert throttled.value.error.code == "SubscriptionRequestsThrottled"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"location": "westeurope", "vcpus": 2}, 400, "lacks the field 'subscription'"),
        ({"subscription": "no-such-sub", "location": "westeurope", "vcpus": 2}, 404, "no-such-sub"),
        ({"subscription": SUB1, "location": "westeurope", "vcpus": "many"}, 400, "invalid"),
    ],
)
def test_a_bad_admin_request_is_a_4xx_with_a_json_body(
    emulator: LocalWorldClient, body: dict[str, Any], status: int, words: str
) -> None:
    response = requests.post(
        f"{emulator.endpoint}/_admin/quota", json=body, verify=emulator.ca_file, timeout=30
    )
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]
