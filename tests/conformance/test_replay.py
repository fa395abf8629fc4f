"""Conformance: real Azure interactions (recordings and REST spec examples) replayed
against the emulator over HTTPS, compared on status, the headers that matter, body keys
and casing, enums and error codes. See `replay.py` for the fixture format.

Flows whose fixture says `"owner": "lead"` concern behaviour being changed elsewhere; they
are expected to diverge until then (strict xfail: one that passes fails the run, so the
mark is removed as soon as the emulator matches). The terminal summary lists them.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.conformance.replay import (
    Comparison,
    Fixture,
    check_problems,
    fill,
    header_problems,
    load_fixtures,
)
from tests.conformance.tally import TALLY
from tests.localworld import LocalWorldClient

SUBSCRIPTION = "3f2a9c41-5b7e-4d08-9a61-2c4e8b7d1f05"
GROUP, LAB, LOCATION = "rg-devtest-weu", "team-alpha", "westeurope"
API_VERSIONS = {"Microsoft.DevTestLab": "2018-09-15", "Microsoft.Compute": "2024-03-02"}
UBUNTU = {
    "name": "Ubuntu Server 22.04 LTS",
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
}
DAY = 86_400


def _context(emulator: LocalWorldClient, names: dict[str, str]) -> dict[str, str]:
    lab_path = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.DevTestLab/labs/{LAB}"
    )
    context = {
        "endpoint": emulator.endpoint,
        "subscription": SUBSCRIPTION,
        "group": GROUP,
        "lab": LAB,
        "labPath": lab_path,
        "labId": lab_path.lower(),
        "location": LOCATION,
        "network": f"Dtl{LAB}",
        "subnet": f"Dtl{LAB}Subnet",
        "networkId": f"{lab_path.lower()}/virtualnetworks/dtl{LAB}",
        "owner": "d44a2991-98c6-47c3-b59b-2b30d72cfcc2",
        "galleryName": UBUNTU["name"],
        "galleryNameQuoted": urllib.parse.quote(UBUNTU["name"]),
        "ubuntuPublisher": UBUNTU["publisher"],
        "ubuntuOffer": UBUNTU["offer"],
        "ubuntuSku": UBUNTU["sku"],
        "size": "Standard_DS2_v2",
        "source": "public repo",
        "sourceQuoted": "public%20repo",
        "artifact": "linux-apt-package",
        "password": "Local-Only-Passw0rd!",
    }
    context.update(names)
    return context


class Replayer:
    """One flow against a freshly reset emulator whose clock moves only when told."""

    def __init__(self, emulator: LocalWorldClient, context: dict[str, str]) -> None:
        self.emulator = emulator
        self.context = context
        self.last: dict[str, str] = {}
        emulator.admin("POST", "clock", {"scale": 1})

    def _auth(self) -> dict[str, str]:
        token = self.emulator.credential.token_for("https://management.azure.com/.default")
        return {"Authorization": f"Bearer {token}"}

    def advance(self, seconds: float = DAY) -> None:
        self.emulator.admin("POST", "clock", {"advance": seconds})

    def url(self, request: dict[str, Any]) -> str:
        if "url" in request:
            reference = request["url"].lstrip("@")
            return self.last[reference.lower()]
        path = fill(request["path"], self.context)
        provider = "Microsoft.Compute" if "/Microsoft.Compute/" in path else "Microsoft.DevTestLab"
        version = request.get("api_version") or API_VERSIONS[provider]
        separator = "&" if "?" in path else "?"
        return f"{self.emulator.endpoint}{path}{separator}api-version={version}"

    def send(self, request: dict[str, Any]) -> requests.Response:
        if request.get("advance"):
            self.advance()
        body = request.get("body")
        response = requests.request(
            request["method"],
            self.url(request),
            headers=self._auth(),
            json=fill(body, self.context) if body is not None else None,
            verify=self.emulator.ca_file,
            timeout=30,
        )
        for name in ("Azure-AsyncOperation", "Location"):
            if name in response.headers:
                self.last[name.lower()] = response.headers[name]
        return response

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A world-building call (not a replayed interaction); it must succeed."""
        response = self.send({"method": method, "path": path, "body": body})
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else {}


# ----- worlds: what a recording had in place before its first interaction ----------------
# The gallery images the recordings' VMs start from.
_UBUNTU = {"offer": "{ubuntuOffer}", "publisher": "{ubuntuPublisher}", "sku": "{ubuntuSku}",
           "osType": "Linux"}  # fmt: skip
_WINDOWS_2022 = {"offer": "WindowsServer", "publisher": "MicrosoftWindowsServer",
                 "sku": "2022-datacenter", "osType": "Windows"}  # fmt: skip


def _put_vm(replay: Replayer, image: dict[str, str], extra: dict[str, object]) -> None:
    """The recording's VM from the latest version of `image`; `extra` adds properties."""
    replay.call(
        "PUT",
        "{labPath}/virtualmachines/{vm}",
        {
            "location": "{location}",
            "properties": {
                "galleryImageReference": {**image, "version": "latest"},
                "size": "{size}",
                "userName": "builder",
                "password": "{password}",
                "labSubnetName": "{subnet}",
                "labVirtualNetworkId": "{networkId}",
                "disallowPublicIpAddress": True,
                **extra,
            },
        },
    )
    replay.advance()


def _linux_vm(replay: Replayer) -> None:
    owned = {"isAuthenticationWithSshKey": False, "allowClaim": False, "ownerObjectId": "{owner}"}
    _put_vm(replay, _UBUNTU, owned)
    vm = replay.call("GET", "{labPath}/virtualmachines/{vm}")
    assert vm["properties"]["provisioningState"] == "Succeeded", vm


def _windows_vm(replay: Replayer) -> None:
    _put_vm(replay, _WINDOWS_2022, {"ownerObjectId": "{owner}"})


def _windows_claimable_vm(replay: Replayer) -> None:
    """A VM anyone in the lab may claim: no owner, `allowClaim` (as `az lab vm create
    --allow-claim` makes it)."""
    _put_vm(replay, _WINDOWS_2022, {"allowClaim": True})


def _stopped(replay: Replayer) -> None:
    replay.call("POST", "{labPath}/virtualmachines/{vm}/stop")
    replay.advance()


def _custom_image(replay: Replayer) -> None:
    replay.call(
        "PUT",
        "{labPath}/customimages/{image}",
        {
            "properties": {
                "vm": {
                    "linuxOsInfo": {"linuxOsState": "NonDeprovisioned"},
                    "sourceVmId": "{labId}/virtualmachines/{vm}",
                }
            }
        },
    )
    replay.advance()


def _os_disk(replay: Replayer) -> None:
    vm = replay.call("GET", "{labPath}/virtualmachines/{vm}?$expand=properties($expand=computeVm)")
    disk_id = vm["properties"]["computeVm"]["osDiskId"].split("/")
    replay.context["diskGroup"], replay.context["disk"] = disk_id[4], disk_id[-1]


WORLDS: dict[str, Callable[[Replayer], None]] = {
    "linux_vm": _linux_vm,
    "windows_vm": _windows_vm,
    "windows_claimable_vm": _windows_claimable_vm,
    "stopped": _stopped,
    "custom_image": _custom_image,
    "os_disk": _os_disk,
}


# ----- the replay ------------------------------------------------------------------------
FIXTURES = load_fixtures()


def _flows() -> list[Any]:
    params = []
    for fixture in FIXTURES:
        TALLY.declare(fixture.label, fixture.not_emulated())
        for flow in fixture.flows():
            marks = []
            if flow.get("owner") == "lead":
                reason = flow.get("divergence", "owned by the lead; being changed")
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
                TALLY.lead(f"{fixture.path.name}: {flow['name']}", reason)
            params.append(
                pytest.param(fixture, flow, id=f"{fixture.path.stem}:{flow['name']}", marks=marks)
            )
    return params


@pytest.mark.parametrize(("fixture", "flow"), _flows())
def test_replay(emulator: LocalWorldClient, fixture: Fixture, flow: dict[str, Any]) -> None:
    replay = Replayer(emulator, _context(emulator, flow.get("names", {})))
    for step in flow.get("world", []):
        WORLDS[step](replay)
    problems: list[str] = []
    for interaction in flow["interactions"]:
        where = f"interaction {interaction.get('index', interaction.get('recorded_at'))}"
        request, expected = interaction["request"], interaction["response"]
        response = replay.send(request)
        TALLY.replayed(fixture.label)
        found = []
        if response.status_code != expected["status"]:
            found.append(
                f"status {response.status_code}, recorded {expected['status']}: {response.text}"
            )
        headers = expected.get("headers", {})
        found += header_problems(headers, dict(response.headers), replay.context)
        if "body" in expected:
            if expected["body"] is None:
                if response.content:
                    found.append(f"body {response.text!r}, recorded empty")
            else:
                try:
                    actual = response.json()
                except ValueError:
                    actual = response.text
                found += Comparison(
                    replay.context,
                    optional=set(expected.get("optional", [])),
                    extra=set(expected.get("extra", [])),
                    enums=set(expected.get("enums", [])),
                    exact=bool(expected.get("exact")),
                ).compare(expected["body"], actual)
                found += check_problems(expected.get("checks", {}), actual, replay.context)
        if not found:
            TALLY.matched(fixture.label)
        problems += [f"{where} ({request['method']}): {line}" for line in found]
    assert not problems, "\n".join(problems)


def test_every_fixture_names_its_source_and_every_interaction_its_place() -> None:
    assert FIXTURES, "no conformance fixtures"
    for fixture in FIXTURES:
        assert {"repository", "path", "commit"} <= fixture.source.keys(), fixture.path
        for flow in fixture.flows():
            for interaction in flow["interactions"]:
                assert "index" in interaction or "recorded_at" in interaction, (
                    fixture.path,
                    flow["name"],
                )
