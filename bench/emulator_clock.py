"""Benchmark: simulated versus wall time of a 40-minute build, and its request economy.

Run: `python -m bench.emulator_clock`. Starts Azurite and the emulator in a temporary
directory, builds the same VM (40 simulated minutes: VM creation plus eight artifacts,
sysprep last) at several clock scales with the real SDK poller, and prints for each
scale the wall time, the speed-up (simulated / wall) and the ARM requests it took.
Ratios come from one run on this machine; they are not a test.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from azure.mgmt.devtestlabs import DevTestLabsClient

from emulator.runner import LocalWorld
from emulator.scenario import Bucket, Throttling, load_scenario
from shared.azure.credential import LocalTokenCredential

SUB = "3f2a9c41-5b7e-4d08-9a61-2c4e8b7d1f05"
GROUP, LAB = "rg-imagefactory", "factory-lab"
SIMULATED_SECONDS = 2400
SCALES = (600.0, 6000.0, 60000.0)


def _body() -> dict[str, Any]:
    lab = (
        f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.DevTestLab/labs/{LAB}"
        "/artifactSources/public repo/artifacts/"
    )
    names = ["windows-git", "windows-docker", "windows-vscode", "windows-7zip",
             "windows-notepadplusplus", "windows-dotnet-sdk"]  # fmt: skip
    artifacts: list[dict[str, Any]] = [{"artifactId": lab + n} for n in names]
    artifacts.append(
        {"artifactId": lab + "windows-chocolatey", "parameters": [{"name": "packages",
                                                                   "value": "jq"}]}
    )  # fmt: skip
    artifacts.append({"artifactId": lab + "windows-sysprep"})
    lab_id = lab.split("/artifactSources/")[0]
    return {
        "properties": {
            "labVirtualNetworkId": f"{lab_id}/virtualnetworks/Dtl{LAB}",
            "labSubnetName": f"Dtl{LAB}Subnet",
            "size": "Standard_D2s_v3",
            "userName": "bench",
            "password": "Local-Only-Passw0rd!",
            "galleryImageReference": {
                "publisher": "MicrosoftWindowsServer",
                "offer": "WindowsServer",
                "sku": "2022-datacenter",
                "osType": "Windows",
                "version": "latest",
            },
            "artifacts": artifacts,
        }
    }


def main() -> None:
    roomy = Bucket(capacity=1_000_000, refill_per_second=100_000)
    scenario = load_scenario().model_copy(
        update={"throttling": Throttling(reads=roomy, writes=roomy, deletes=roomy)}
    )
    with tempfile.TemporaryDirectory() as directory:
        world = LocalWorld(scenario=scenario, state_dir=Path(directory), clock_scale=SCALES[0])
        info = world.start()
        try:
            client: Any = DevTestLabsClient(
                LocalTokenCredential(),
                SUB,
                base_url=info.endpoint,
                connection_verify=info.ca_file,
                polling_interval=0.01,
            )
            print(f"{'scale':>8} {'wall s':>8} {'speed-up':>9} {'ideal':>8} {'requests':>9}")
            for index, scale in enumerate(SCALES):
                admin = f"{info.endpoint}/_admin"
                requests.post(f"{admin}/reset", verify=info.ca_file, timeout=30)
                requests.post(
                    f"{admin}/clock", json={"scale": scale}, verify=info.ca_file, timeout=30
                )
                started = time.monotonic()
                client.virtual_machines.begin_create_or_update(
                    GROUP, LAB, f"bench-{index}", _body()
                ).result()
                wall = time.monotonic() - started
                counts = requests.get(f"{admin}/requests", verify=info.ca_file, timeout=30)
                total = counts.json()["total"]
                print(
                    f"{scale:>8g} {wall:>8.2f} {SIMULATED_SECONDS / wall:>9.0f} "
                    f"{scale:>8g} {total:>9}"
                )
        finally:
            world.stop()


if __name__ == "__main__":
    main()
