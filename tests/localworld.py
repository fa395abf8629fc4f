"""Session fixtures of the local world: Azurite and the DevTest Labs emulator.

Registered in tests/conftest.py. Each process starts once per test session on free
ports in a temporary directory and stops when the session ends.

- `local_tls` -> `TlsFiles`: the local CA (`ca_file`, pass it as `connection_verify`).
- `azurite` -> `AzuriteEndpoints`: Azurite over HTTPS with OAuth; `blob_endpoint(account)`,
  `queue_endpoint(account)`, `connection_string(account)` (account defaults to
  `devstoreaccount1`), `ca_file`. It also serves the storage accounts of the test scenario.
- `local_world` (session) -> `LocalWorldClient`: the emulator (default scenario, clock at
  1 simulated minute = 10 ms, generous throttling limits) plus client helpers.
- `emulator` (per test) -> the same `LocalWorldClient` after an admin reset: no VMs,
  images, operations, faults; request counts zeroed.

And the one way tests run the Function App under devhost in a process of its own:
`app_process` (the app settings are `scripts.local_settings`' for a local world), with
`functions_storage` when the test has no world, only an Azurite of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.devtestlabs import DevTestLabsClient
from azure.storage.blob import BlobClient, BlobServiceClient

from devhost.process import DevHostProcess
from emulator.azurite import Azurite, AzuriteEndpoints
from emulator.compute.models import DISK_ACCOUNT
from emulator.runner import LocalWorld, WorldInfo
from emulator.scenario import Bucket, Scenario, Throttling, load_scenario
from emulator.tls import TlsFiles, ensure_tls
from shared.azure.credential import LocalTokenCredential

TEST_CLOCK_SCALE = 6000.0  # 1 simulated minute = 10 ms


def local_test_scenario() -> Scenario:
    """The default scenario with throttling limits high enough for busy test pollers."""
    scenario = load_scenario()
    roomy = Bucket(capacity=1_000_000, refill_per_second=100_000)
    return scenario.model_copy(
        update={"throttling": Throttling(reads=roomy, writes=roomy, deletes=roomy)}
    )


@dataclass
class LocalWorldClient:
    """Endpoint, CA file and credential of the local world, and SDK clients built on them."""

    info: WorldInfo
    scenario: Scenario
    azurite: AzuriteEndpoints
    credential: LocalTokenCredential = field(default_factory=LocalTokenCredential)

    @property
    def endpoint(self) -> str:
        return self.info.endpoint

    @property
    def ca_file(self) -> str:
        return self.info.ca_file

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for azure-mgmt clients: endpoint, CA, quick polls and retries."""
        return {
            "base_url": self.endpoint,
            "credential_scopes": ["https://management.azure.com/.default"],
            "connection_verify": self.ca_file,
            "polling_interval": 0,
            "retry_backoff_factor": 0.01,
            "retry_backoff_max": 1,
        }

    def devtestlabs(self, subscription: str, **kwargs: Any) -> DevTestLabsClient:
        return DevTestLabsClient(
            self.credential, subscription, **{**self.client_options(), **kwargs}
        )

    def compute(self, subscription: str, **kwargs: Any) -> ComputeManagementClient:
        return ComputeManagementClient(
            self.credential, subscription, **{**self.client_options(), **kwargs}
        )

    def blob_service(self, account: str) -> BlobServiceClient:
        """A blob client for an account, authenticated with the local bearer token."""
        return BlobServiceClient(
            self.azurite.blob_endpoint(account),
            credential=self.credential,
            connection_verify=self.ca_file,
        )

    def blob_from_url(self, url: str) -> BlobClient:
        """A blob client for a SAS URL (the SAS authenticates)."""
        return BlobClient.from_blob_url(url, connection_verify=self.ca_file)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the emulator's admin API (`path` below `/_admin`)."""
        response = requests.request(
            method,
            f"{self.endpoint}/_admin/{path.lstrip('/')}",
            json=body,
            verify=self.ca_file,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.admin("POST", "reset")


@pytest.fixture(scope="session")
def local_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary directory holding the CA, Azurite's files and the emulator's state."""
    return tmp_path_factory.mktemp("local-world")


@pytest.fixture(scope="session")
def local_tls(local_world_dir: Path) -> TlsFiles:
    """The local CA (`ca_file`) and the server certificate both servers present."""
    return ensure_tls(local_world_dir / "tls")


@pytest.fixture(scope="session")
def azurite(local_world_dir: Path, local_tls: TlsFiles) -> Iterator[AzuriteEndpoints]:
    """Azurite serving blobs, queues and tables over HTTPS (shared key, SAS or bearer token)."""
    accounts = ("devstoreaccount1", *local_test_scenario().storage_accounts(), DISK_ACCOUNT)
    process = Azurite(location=local_world_dir / "azurite", tls=local_tls, accounts=accounts)
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture(scope="session")
def local_world(
    local_world_dir: Path, local_tls: TlsFiles, azurite: AzuriteEndpoints
) -> Iterator[LocalWorldClient]:
    """The emulator (default scenario, 1 min = 10 ms) wired to the session's Azurite."""
    scenario = local_test_scenario()
    world = LocalWorld(
        scenario=scenario,
        state_dir=local_world_dir / "emulator",
        clock_scale=TEST_CLOCK_SCALE,
        tls=local_tls,
        azurite=azurite,
    )
    info = world.start()
    try:
        yield LocalWorldClient(info=info, scenario=scenario, azurite=azurite)
    finally:
        world.stop()


@pytest.fixture
def emulator(local_world: LocalWorldClient) -> LocalWorldClient:
    """The session's emulator, reset to the scenario for this test."""
    local_world.reset()
    return local_world


def app_process(
    app_dir: Path,
    work_dir: Path,
    values: dict[str, str],
    *,
    queues: bool = True,
    env: dict[str, str] | None = None,
) -> DevHostProcess:
    """devhost running the app in `app_dir` as a process of its own, with `values` as its
    settings, its state and log (`devhost.log`) under `work_dir`, and no timers (a test
    fires them). App settings are environment variables: this process's IMAGEFACTORY_*
    variables are not passed on, so a test's own cannot leak into the app."""
    return DevHostProcess(
        app_dir,
        state_dir=work_dir / "devhost",
        values=values,
        extra_args=["--no-timers", *([] if queues else ["--no-queues"])],
        env=env,
        log_file=work_dir / "devhost.log",
        drop_env=("IMAGEFACTORY_",),
    )


@contextmanager
def functions_storage(work_dir: Path) -> Iterator[dict[str, str]]:
    """An Azurite of its own as the Functions storage (which holds the run queue): the
    app settings that name it and trust its CA."""
    tls = ensure_tls(work_dir / "tls")
    azurite = Azurite(work_dir / "azurite", tls)
    storage = azurite.start()
    try:
        yield {
            "AzureWebJobsStorage": storage.connection_string(),
            "IMAGEFACTORY_CA_BUNDLE": str(tls.ca_file),
        }
    finally:
        azurite.stop()
