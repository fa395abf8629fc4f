"""ARM protocol details: auth, api-version, errors, long-running-operation headers, counts."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from emulator.exceptions import ResourceNotFound
from tests.emulator.conftest import ALPHA, FACTORY, SUB1, UBUNTU_2204, lab_id, vm_body
from tests.localworld import LocalWorldClient

API = "api-version=2018-09-15"


def _call(
    emulator: LocalWorldClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    token: bool = True,
    query: str = API,
) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        scope = "https://management.azure.com/.default"
        headers["Authorization"] = f"Bearer {emulator.credential.token_for(scope)}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    url = f"{emulator.endpoint}{path}" + (f"?{query}" if query else "")
    return requests.request(
        method, url, data=data, headers=headers, verify=emulator.ca_file, timeout=30
    )


def _error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    message = body["error"]["message"]
    # One sentence; ARM's recorded 404 adds its help link after it.
    sentence = message.removesuffix(ResourceNotFound.HINT)
    assert sentence.endswith(".") and sentence.count(". ") <= 1, message
    return response.status_code, body["error"]["code"], message


LAB = lab_id(SUB1, FACTORY.group, FACTORY.name)


def test_missing_token_is_401_with_challenge(emulator: LocalWorldClient) -> None:
    response = _call(emulator, "GET", LAB, token=False)
    assert _error(response)[:2] == (401, "AuthenticationFailed")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_for_another_audience_is_401(emulator: LocalWorldClient) -> None:
    token = emulator.credential.token_for("https://storage.azure.com/.default")
    response = requests.get(
        f"{emulator.endpoint}{LAB}?{API}",
        headers={"Authorization": f"Bearer {token}"},
        verify=emulator.ca_file,
        timeout=30,
    )
    assert _error(response)[:2] == (401, "InvalidAuthenticationTokenAudience")


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "expected"),
    [
        ("GET", LAB, None, "api-version=2099-01-01", (400, "NoRegisteredProviderFound")),
        ("GET", LAB, None, "", (400, "MissingApiVersionParameter")),
        ("PUT", LAB + "/virtualmachines/x", {"properties": {"userName": "u"}}, API,
         (400, "RequiredPropertyNullOrEmpty")),
        ("PUT", LAB + "/virtualmachines/x", {"tags": {"a": 1}, "properties": {}}, API,
         (400, "InvalidParameter")),
        ("POST", LAB + "/generateUploadUri", {"blobName": "{'blobName': 'x.vhd'}"}, API,
         (400, "InvalidParameter")),
        ("GET", lab_id(SUB1, FACTORY.group, "no-such-lab"), None, API, (404, "ResourceNotFound")),
        ("GET", lab_id(SUB1, "no-such-rg", FACTORY.name), None, API,
         (404, "ResourceGroupNotFound")),
        ("GET", lab_id("0badc0de-0000-4000-8000-000000000000", FACTORY.group, FACTORY.name), None,
         API, (404, "SubscriptionNotFound")),
        ("GET", LAB + "/virtualmachines/ghost", None, API, (404, "ResourceNotFound")),
        ("GET", LAB + "/flyingsaucers/x/y/z", None, API, (404, "InvalidResourceType")),
        ("POST", LAB + "/virtualmachines", {}, API, (405, "MethodNotAllowed")),
        ("POST", LAB + "/virtualmachines/x/redeploy", {}, API, (501, "NotImplemented")),
        ("GET", LAB + "/schedules", None, API, (501, "NotImplemented")),
        ("GET", f"/subscriptions/{SUB1}/providers/Microsoft.Network/virtualNetworks", None,
         "api-version=2024-05-01", (501, "NotImplemented")),
    ],
)  # fmt: skip
def test_bad_requests_get_arm_errors(
    emulator: LocalWorldClient,
    method: str,
    path: str,
    body: Any,
    query: str,
    expected: tuple[int, str],
) -> None:
    response = _call(emulator, method, path, body, query=query)
    assert _error(response)[:2] == expected


def test_malformed_json_is_400(emulator: LocalWorldClient) -> None:
    response = _call(emulator, "PUT", LAB + "/virtualmachines/x", raw=b'{"properties": ')
    status, code, message = _error(response)
    assert (status, code) == (400, "InvalidRequestContent")
    assert "could not be deserialized" in message


def test_wrong_method_names_the_allowed_ones(emulator: LocalWorldClient) -> None:
    response = _call(emulator, "DELETE", LAB + "/galleryimages")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def test_paths_match_case_insensitively_and_ids_are_lowercase(
    emulator: LocalWorldClient,
) -> None:
    response = _call(emulator, "GET", LAB.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert response.status_code == 200
    assert response.json()["id"] == LAB.lower()
    assert response.json()["name"] == "factory-lab"


def test_long_running_put_and_delete_headers(emulator: LocalWorldClient) -> None:
    path = lab_id(SUB1, ALPHA.group, ALPHA.name) + "/virtualmachines/raw-vm"
    emulator.admin("POST", "clock", {"scale": 1})  # real time: only admin jumps move it
    created = _call(emulator, "PUT", path, vm_body(ALPHA, image=UBUNTU_2204))
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Creating"
    operation_url = created.headers["Azure-AsyncOperation"]
    assert operation_url.startswith(emulator.endpoint + "/subscriptions/")
    assert "Location" not in created.headers
    status = requests.get(
        operation_url, headers=_auth(emulator), verify=emulator.ca_file, timeout=30
    ).json()
    assert status["status"] == "Running"
    emulator.admin("POST", "clock", {"advance": 3600})
    status = requests.get(
        operation_url, headers=_auth(emulator), verify=emulator.ca_file, timeout=30
    ).json()
    assert status["status"] == "Succeeded"

    deleted = _call(emulator, "DELETE", path)
    assert deleted.status_code == 202
    assert deleted.headers["Azure-AsyncOperation"].startswith(emulator.endpoint)
    assert deleted.headers["Location"].startswith(emulator.endpoint)
    assert _call(emulator, "GET", path).json()["properties"]["provisioningState"] == "Deleting"
    emulator.admin("POST", "clock", {"advance": 3600})
    assert _call(emulator, "GET", path).status_code == 404
    assert _call(emulator, "DELETE", path).status_code == 204


def _auth(emulator: LocalWorldClient) -> dict[str, str]:
    token = emulator.credential.token_for("https://management.azure.com/.default")
    return {"Authorization": f"Bearer {token}"}


def test_request_counts_equal_the_calls_made(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    dtl.labs.get(FACTORY.group, FACTORY.name)
    dtl.labs.get(ALPHA.group, ALPHA.name)
    list(dtl.virtual_machines.list(FACTORY.group, FACTORY.name))
    list(dtl.custom_images.list(FACTORY.group, FACTORY.name))
    dtl.labs.generate_upload_uri(FACTORY.group, FACTORY.name)
    compute: Any = emulator.compute(SUB1, retry_total=0)
    with pytest.raises(Exception, match="ResourceNotFound"):
        compute.disks.get("rg-imagefactory-vms", "no-disk")
    counts = emulator.admin("GET", "requests")
    assert counts["total"] == 6
    assert counts["byMethod"] == {"GET": 5, "POST": 1}
    assert counts["byResourceType"] == {
        "Microsoft.DevTestLab/labs": 3,
        "Microsoft.DevTestLab/labs/virtualmachines": 1,
        "Microsoft.DevTestLab/labs/customimages": 1,
        "Microsoft.Compute/disks": 1,
    }
    assert counts["byOperation"]["Microsoft.DevTestLab/labs/read"] == 2
    assert counts["byOperation"]["Microsoft.DevTestLab/labs/generateUploadUri/action"] == 1
    assert counts["byStatus"] == {"200": 5, "404": 1}


def test_storage_account_points_at_azurite(emulator: LocalWorldClient) -> None:
    path = (
        f"/subscriptions/{SUB1}/resourceGroups/{FACTORY.group}/providers/Microsoft.Storage"
        "/storageAccounts/afactorylab01"
    )
    response = _call(emulator, "GET", path, query="api-version=2023-05-01")
    assert response.status_code == 200
    blob = response.json()["properties"]["primaryEndpoints"]["blob"]
    assert blob == emulator.azurite.blob_endpoint("afactorylab01") + "/"


# DevTest Labs' timestamps as Azure/azure-cli's lab recordings hold them
# (test_lab_custom_image.yaml: "2024-09-09T10:02:38.4660092+00:00",
# "2024-09-05T09:11:18.11946+00:00"): trailing zeros dropped, a +00:00 offset, no `Z`.
DTL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?\+00:00$")


def test_timestamps_have_devtest_labs_recorded_form(emulator: LocalWorldClient) -> None:
    created = _call(emulator, "GET", LAB).json()["properties"]["createdDate"]
    assert DTL_TIME.match(created), created
    recorded = ("2024-09-09T10:02:38.4660092+00:00", "2024-09-05T09:11:18.11946+00:00")
    assert all(DTL_TIME.match(value) for value in recorded)  # the pattern is Azure's
