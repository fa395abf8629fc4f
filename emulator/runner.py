"""Start the local world: the CA, Azurite with the scenario's accounts, and the emulator.

Used by `python -m emulator` and by the test fixtures. `LocalWorld.start()` returns a
`WorldInfo` and writes it as `local-world.json` in the state directory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from emulator.azurite import Azurite, AzuriteEndpoints
from emulator.blobstore import BlobStore
from emulator.compute.models import DISK_ACCOUNT
from emulator.core import Core, Persistence
from emulator.scenario import Scenario
from emulator.server import RunningServer, serve
from emulator.tls import TlsFiles, ensure_tls

INFO_FILE = "local-world.json"


@dataclass(frozen=True)
class WorldInfo:
    """What a client needs: ARM endpoint, CA file, Azurite ports and accounts."""

    endpoint: str
    port: int
    ca_file: str
    state_dir: str
    blob_port: int
    queue_port: int
    table_port: int
    storage_accounts: list[str]
    subscriptions: list[str]
    clock_scale: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LocalWorld:
    """Azurite and the emulator, started together and stopped together."""

    scenario: Scenario
    state_dir: Path
    port: int = 0
    clock_scale: float | None = None
    persist: bool = False
    use_azurite: bool = True
    azurite_log: Path | None = None
    tls: TlsFiles | None = None
    azurite: AzuriteEndpoints | None = None
    core: Core | None = field(default=None, init=False)
    _azurite: Azurite | None = field(default=None, init=False)
    _server: RunningServer | None = field(default=None, init=False)

    def start(self) -> WorldInfo:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tls = self.tls or ensure_tls(self.state_dir / "tls")
        accounts = (*self.scenario.storage_accounts(), DISK_ACCOUNT)
        endpoints = self.azurite
        if endpoints is None and self.use_azurite:
            self._azurite = Azurite(
                location=self.state_dir / "azurite",
                tls=tls,
                accounts=accounts,
                log_file=self.azurite_log,
            )
            endpoints = self._azurite.start()
        missing = [a for a in accounts if endpoints and a not in endpoints.accounts]
        if missing:
            raise ValueError(
                f"the Azurite given does not serve the scenario's accounts {', '.join(missing)}"
            )
        persistence = Persistence(self.state_dir / "emulator.sqlite") if self.persist else None
        self.core = Core(
            self.scenario,
            blobs=BlobStore(endpoints) if endpoints else None,
            persistence=persistence,
            clock_scale=self.clock_scale,
        )
        self._server = serve(self.core, tls, self.port)
        info = WorldInfo(
            endpoint=self._server.endpoint,
            port=self._server.port,
            ca_file=str(tls.ca_file),
            state_dir=str(self.state_dir),
            blob_port=endpoints.blob_port if endpoints else 0,
            queue_port=endpoints.queue_port if endpoints else 0,
            table_port=endpoints.table_port if endpoints else 0,
            storage_accounts=list(endpoints.accounts) if endpoints else [],
            subscriptions=[s.id for s in self.scenario.subscriptions],
            clock_scale=self.core.clock.scale,
        )
        self._server.app.info.update(info.to_json())
        (self.state_dir / INFO_FILE).write_text(json.dumps(info.to_json(), indent=2) + "\n")
        return info

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.core is not None:
            with self.core.lock:
                self.core.save()
        if self._azurite is not None:
            self._azurite.stop()
            self._azurite = None
