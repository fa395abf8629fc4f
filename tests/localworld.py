"""Session fixtures of the local world: Azurite and the DevTest Labs emulator.

Registered in tests/conftest.py. Each process starts once per test session on free
ports in a temporary directory and stops when the session ends.

- `local_tls`: the local CA and server certificate (`TlsFiles`; pass `ca_file` as
  `connection_verify`).
- `azurite`: a running Azurite over HTTPS with OAuth (`AzuriteEndpoints`: `blob_endpoint()`,
  `queue_endpoint()`, `connection_string()`, `ca_file`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.azurite import Azurite, AzuriteEndpoints
from emulator.tls import TlsFiles, ensure_tls


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
    """Azurite serving blobs, queues and tables over HTTPS (shared key, SAS or bearer token).

    Accounts: `devstoreaccount1` always; the emulator's scenario adds its lab accounts.
    """
    process = Azurite(location=local_world_dir / "azurite", tls=local_tls)
    try:
        yield process.start()
    finally:
        process.stop()
