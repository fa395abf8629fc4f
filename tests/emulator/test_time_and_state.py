"""Simulated time, restart with persistence, and the scenario file."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.azurite import AzuriteEndpoints
from emulator.clock import SimClock, parse_scale
from emulator.runner import INFO_FILE, LocalWorld
from emulator.scenario import ScenarioError, scenario_from_dict
from emulator.tls import TlsFiles
from tests.emulator.conftest import ALPHA, FACTORY, SUB1, UBUNTU_2204, artifact, vm_body
from tests.localworld import LocalWorldClient, local_test_scenario


def _forty_minute_build() -> dict[str, object]:
    # vm_create 600 s + artifacts 180+420+180+180+180+180+180+300 = 2400 s = 40 minutes.
    names = ["windows-git", "windows-docker", "windows-vscode", "windows-7zip",
             "windows-notepadplusplus", "windows-dotnet-sdk"]  # fmt: skip
    artifacts = [artifact(FACTORY, n) for n in names]
    artifacts.append(artifact(FACTORY, "windows-chocolatey", packages="jq"))
    artifacts.append(artifact(FACTORY, "windows-sysprep"))
    return vm_body(FACTORY, artifacts=artifacts)


def test_forty_minute_build_takes_seconds_at_test_scale(emulator: LocalWorldClient) -> None:
    dtl: Any = emulator.devtestlabs(SUB1)
    started = time.monotonic()
    vm = dtl.virtual_machines.begin_create_or_update(
        FACTORY.group, FACTORY.name, "forty", _forty_minute_build()
    ).result()
    wall = time.monotonic() - started
    assert vm.provisioning_state == "Succeeded"
    assert wall < 10, f"a 40-minute simulated build took {wall:.1f} s of wall time"
    vm = dtl.virtual_machines.get(
        FACTORY.group, FACTORY.name, "forty", expand="properties($expand=artifacts)"
    )
    simulated = vm.artifacts[-1].install_time - vm.created_date
    assert simulated >= dt.timedelta(minutes=40)


def test_clock_scale_parsing_and_manual_advance() -> None:
    assert parse_scale("1m=10ms") == pytest.approx(6000)
    assert parse_scale("1h=1m") == pytest.approx(60)
    assert parse_scale(2.5) == 2.5
    with pytest.raises(ValueError, match="ratio"):
        parse_scale("fast")
    clock = SimClock(scale=1.0, start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    clock.advance(3600)
    assert clock.now() >= dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)


def test_scenario_errors_name_the_field() -> None:
    with pytest.raises(ScenarioError, match=r"subscriptions\.0\.id"):
        scenario_from_dict({"subscriptions": [{"id": "not-a-guid"}]}, "bad.yaml")
    with pytest.raises(ScenarioError, match="surprise"):
        scenario_from_dict({"surprise": 1}, "bad.yaml")


def test_restart_keeps_state_with_persistence(
    tmp_path: Path, local_tls: TlsFiles, azurite: AzuriteEndpoints
) -> None:
    def start(scale: float) -> tuple[LocalWorld, LocalWorldClient]:
        world = LocalWorld(
            scenario=local_test_scenario(),
            state_dir=tmp_path,
            clock_scale=scale,
            persist=True,
            tls=local_tls,
            azurite=azurite,
        )
        info = world.start()
        return world, LocalWorldClient(info=info, scenario=world.scenario, azurite=azurite)

    world, client = start(6000)
    try:
        dtl: Any = client.devtestlabs(SUB1)
        dtl.virtual_machines.begin_create_or_update(
            ALPHA.group, ALPHA.name, "kept", vm_body(ALPHA, image=UBUNTU_2204)
        ).result()
        # Leave an operation running across the restart.
        client.admin("POST", "clock", {"scale": 1})
        dtl.virtual_machines.begin_create_or_update(
            ALPHA.group, ALPHA.name, "in-flight", vm_body(ALPHA, image=UBUNTU_2204)
        )
        first_port = client.info.port
    finally:
        world.stop()
    info_file = json.loads((tmp_path / INFO_FILE).read_text())
    assert info_file["port"] == first_port

    # Real time after the restart: only admin jumps finish the operation left running.
    world, client = start(1)
    try:
        dtl = client.devtestlabs(SUB1)
        assert dtl.virtual_machines.get(ALPHA.group, ALPHA.name, "kept").provisioning_state == (
            "Succeeded"
        )
        assert dtl.virtual_machines.get(
            ALPHA.group, ALPHA.name, "in-flight"
        ).provisioning_state == ("Creating")
        client.admin("POST", "clock", {"advance": 3600})
        assert dtl.virtual_machines.get(
            ALPHA.group, ALPHA.name, "in-flight"
        ).provisioning_state == ("Succeeded")
        # The same on demand, without stopping the process.
        dtl.virtual_machines.begin_delete(ALPHA.group, ALPHA.name, "kept")
        assert client.admin("POST", "restart") == {"restarted": True}
        client.admin("POST", "clock", {"advance": 3600})
        names = [vm.name for vm in dtl.virtual_machines.list(ALPHA.group, ALPHA.name)]
        assert names == ["in-flight"]
    finally:
        world.stop()


def test_restart_without_persistence_is_refused(emulator: LocalWorldClient) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        emulator.admin("POST", "restart")
    response: Any = refused.value.response
    assert response.status_code == 409
