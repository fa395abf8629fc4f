"""Azure's limits on tags and names, and the 404 it answers for a missing lab resource.

Sources: ARM's tag limits (50 tags, names up to 512 and values up to 256 characters, no
`<>%&\\?/` or control characters in a name); a VM's name is its computer name (15
characters for Windows, 64 for Linux); ARM's rule for resource names; ARM's
`ResourceNotFound` names the resource type as the API spells it (`virtualMachines`).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.core.exceptions import ResourceNotFoundError

from tests.emulator.conftest import ALPHA, SUB1, UBUNTU_2204, WINDOWS_2019, lab_id, vm_body
from tests.localworld import LocalWorldClient

LAB = lab_id(*ALPHA)


def _put(emulator: LocalWorldClient, path: str, body: Any) -> requests.Response:
    token = emulator.credential.token_for("https://management.azure.com/.default")
    return requests.put(
        f"{emulator.endpoint}{path}?api-version=2018-09-15",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        verify=emulator.ca_file,
        timeout=30,
    )


def _error(response: requests.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ({f"t{i}": "v" for i in range(51)}, "InvalidTagCount"),
        ({"a/b": "v"}, "InvalidTagNameCharacters"),
        ({"a\nb": "v"}, "InvalidTagNameCharacters"),
        ({"n" * 513: "v"}, "InvalidTagNameLength"),
        ({"n": "v" * 257}, "InvalidTagValueLength"),
    ],
    ids=["51 tags", "reserved character", "control character", "long name", "long value"],
)
def test_tags_beyond_arm_limits_are_refused(
    emulator: LocalWorldClient, tags: dict[str, str], code: str
) -> None:
    response = _put(emulator, f"{LAB}/virtualmachines/tagged", vm_body(ALPHA, tags=tags))
    status, found, message = _error(response)
    assert (status, found) == (400, code), message
    assert message.endswith(".")


def test_tags_at_arm_limits_are_kept(emulator: LocalWorldClient) -> None:
    tags = {f"{i:02d}" + "n" * 510: "v" * 256 for i in range(50)}
    response = _put(emulator, f"{LAB}/virtualmachines/tagged", vm_body(ALPHA, tags=tags))
    assert response.status_code == 201, response.text
    assert response.json()["tags"] == tags


@pytest.mark.parametrize(
    ("name", "image", "ok"),
    [
        ("w22dev-a1b2c3d", WINDOWS_2019, True),  # 14 characters
        ("w22dev-a1b2c3d4e", WINDOWS_2019, False),  # 16: beyond Windows' 15
        ("ubuntu2204-build-a1b2c3d4e", UBUNTU_2204, True),
        ("u" * 65, UBUNTU_2204, False),
        ("1build", UBUNTU_2204, False),
        ("build-", UBUNTU_2204, False),
        ("build_1", UBUNTU_2204, False),
    ],
)
def test_vm_names_follow_the_computer_name_rules(
    emulator: LocalWorldClient, name: str, image: dict[str, str], ok: bool
) -> None:
    response = _put(emulator, f"{LAB}/virtualmachines/{name}", vm_body(ALPHA, image=image))
    if ok:
        assert response.status_code == 201, response.text
    else:
        status, code, message = _error(response)
        assert (status, code) == (400, "InvalidResourceName"), message
        assert name in message


@pytest.mark.parametrize("name", ["my image", "-image", "image.", "i" * 81])
def test_custom_image_names_follow_arm_resource_name_rules(
    emulator: LocalWorldClient, name: str
) -> None:
    body = {"properties": {"vhd": {"imageName": "x.vhd", "osType": "Linux"}}}
    status, code, _ = _error(_put(emulator, f"{LAB}/customimages/{name}", body))
    assert (status, code) == (400, "InvalidResourceName")


def test_missing_vm_is_a_404_naming_virtual_machines_in_camel_case(
    emulator: LocalWorldClient,
) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    with pytest.raises(ResourceNotFoundError) as missing:
        dtl.virtual_machines.get(ALPHA[1], ALPHA[2], "nowhere")
    assert missing.value.error is not None and missing.value.error.code == "ResourceNotFound"
    assert missing.value.error.message == (
        "The Resource 'Microsoft.DevTestLab/labs/team-alpha/virtualMachines/nowhere' under "
        "resource group 'rg-devtest-weu' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix"
    )


def test_vm_without_user_name_is_refused_as_devtest_labs_does(emulator: LocalWorldClient) -> None:
    body = vm_body(ALPHA, image=UBUNTU_2204)
    props: Any = body["properties"]
    del props["userName"]
    status, code, message = _error(_put(emulator, f"{LAB}/virtualmachines/no-user", body))
    assert (status, code, message) == (
        400,
        "RequiredPropertyNullOrEmpty",
        "Property userName is either missing or empty.",
    )
