"""The lab task commands against the emulator: the CLI runs through `shared.cli.main` with
the local world's settings in the environment (the same variables the app reads)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.resource import ResourceManagementClient

from scripts import local_settings
from shared.cli import main
from shared.lab_tasks import clients
from tests.localworld import LocalWorldClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lab_tasks"
# The seed's GoldenImages template, as Azure/azure-devtestlab ships it
# (samples/DevTestLabs/Scripts/ImageFactory/Configuration/GoldenImages, commit 544d203c).
GOLDEN_WIN2016 = FIXTURES / "GoldenImages" / "Win2016" / "Datacenter.json"
SUB1 = "3f2a9c41-5b7e-4d08-9a61-2c4e8b7d1f05"
ALPHA_RG, ALPHA_LAB = "rg-devtest-weu", "team-alpha"
ALPHA = (
    f"/subscriptions/{SUB1}/resourceGroups/{ALPHA_RG}/providers/Microsoft.DevTestLab/labs/"
    f"{ALPHA_LAB}"
)
PASSWORD = "Local-Only-Passw0rd!"


def world_settings(world: LocalWorldClient) -> dict[str, str]:
    """The app settings that point the commands at the local world."""
    return local_settings.world_settings(world.info, poll_seconds=0.05)


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data


@dataclass
class LabCli:
    world: LocalWorldClient
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> Run:
        self.capsys.readouterr()
        code = main.main(["lab", *args])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def ok(self, *args: str) -> dict[str, Any]:
        run = self(*args, "--output", "json")
        assert run.code == 0, run.err
        return run.json()

    def resources(self, subscription: str = SUB1) -> ResourceManagementClient:
        return ResourceManagementClient(
            self.world.credential, subscription, **self.world.client_options()
        )


@pytest.fixture
def lab_cli(
    emulator: LocalWorldClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LabCli]:
    for name, value in world_settings(emulator).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    clients.reset()
    yield LabCli(emulator, capsys)
    clients.reset()


def vm_args(name: str, *extra: str) -> list[str]:
    return [
        "vm", "create", "--lab", ALPHA, "--name", name, "--template", str(GOLDEN_WIN2016),
        "--override", "size=Standard_DS2_v2", "--override", "userName=builder",
        "--override", f"password={PASSWORD}", *extra,
    ]  # fmt: skip


def env_path() -> dict[str, str]:
    """The environment of a CI step: this machine's, with the venv's tools first."""
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": venv_bin + os.pathsep + os.environ.get("PATH", "")}
