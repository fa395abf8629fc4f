"""Start and stop Azurite (blobs, queues, tables) over HTTPS with OAuth for the local world.

Azurite is the npm package pinned in the repository's package.json. It serves every
account named in `AZURITE_ACCOUNTS` with path-style URLs:
`https://127.0.0.1:<blob port>/<account>/<container>/<blob>`. It accepts shared keys,
SAS tokens and (with `--oauth basic`) JWT-shaped bearer tokens.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from emulator.tls import TlsFiles

DEFAULT_ACCOUNT = "devstoreaccount1"
DEFAULT_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def _die_with_parent() -> None:
    """In the child: ask Linux to stop Azurite when the process that started it dies."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


_PR_SET_PDEATHSIG = 1


class AzuriteError(RuntimeError):
    """Azurite could not be found or did not start."""


def account_key(name: str) -> str:
    """The key of a local storage account: derived from its name, stable across restarts.

    Like Azurite's well-known development key, it protects nothing; it only lets every
    tool of the local world compute the same key without sharing a file.
    """
    if name == DEFAULT_ACCOUNT:
        return DEFAULT_ACCOUNT_KEY
    return base64.b64encode(hashlib.sha512(f"local-world:{name}".encode()).digest()).decode()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_azurite(start: Path | None = None) -> Path:
    """The `azurite` executable installed by `npm ci` in this repository."""
    env = os.environ.get("AZURITE_BIN")
    if env:
        return Path(env)
    roots = [start or Path.cwd(), Path(__file__).resolve().parent]
    for root in roots:
        for directory in [root, *root.parents]:
            candidate = directory / "node_modules" / ".bin" / "azurite"
            if candidate.exists():
                return candidate
    found = shutil.which("azurite")
    if found:
        return Path(found)
    raise AzuriteError("Azurite is not installed; run `make deps` (npm ci) first.")


@dataclass(frozen=True)
class AzuriteEndpoints:
    """Where a running Azurite listens, and how to reach each account."""

    blob_port: int
    queue_port: int
    table_port: int
    ca_file: Path
    accounts: tuple[str, ...]
    host: str = "127.0.0.1"

    def blob_endpoint(self, account: str = DEFAULT_ACCOUNT) -> str:
        return f"https://{self.host}:{self.blob_port}/{account}"

    def queue_endpoint(self, account: str = DEFAULT_ACCOUNT) -> str:
        return f"https://{self.host}:{self.queue_port}/{account}"

    def table_endpoint(self, account: str = DEFAULT_ACCOUNT) -> str:
        return f"https://{self.host}:{self.table_port}/{account}"

    def connection_string(self, account: str = DEFAULT_ACCOUNT) -> str:
        """A shared-key connection string with all three service endpoints (HTTPS)."""
        return (
            f"DefaultEndpointsProtocol=https;AccountName={account};"
            f"AccountKey={account_key(account)};"
            f"BlobEndpoint={self.blob_endpoint(account)};"
            f"QueueEndpoint={self.queue_endpoint(account)};"
            f"TableEndpoint={self.table_endpoint(account)};"
        )


@dataclass
class Azurite:
    """One Azurite process serving blobs, queues and tables over HTTPS with OAuth."""

    location: Path
    tls: TlsFiles
    accounts: tuple[str, ...] = (DEFAULT_ACCOUNT,)
    blob_port: int = 0
    queue_port: int = 0
    table_port: int = 0
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoints(self) -> AzuriteEndpoints:
        return AzuriteEndpoints(
            blob_port=self.blob_port,
            queue_port=self.queue_port,
            table_port=self.table_port,
            ca_file=self.tls.ca_file,
            accounts=self.accounts,
        )

    def start(self, timeout: float = 30.0) -> AzuriteEndpoints:
        if self._process is not None:
            return self.endpoints
        names = list(dict.fromkeys((DEFAULT_ACCOUNT, *self.accounts)))
        self.accounts = tuple(names)
        self.blob_port = self.blob_port or free_port()
        self.queue_port = self.queue_port or free_port()
        self.table_port = self.table_port or free_port()
        self.location.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        # Azurite fetches cross-account copy sources itself over HTTPS: trust the local CA.
        env["NODE_EXTRA_CA_CERTS"] = str(self.tls.ca_file)
        env["AZURITE_ACCOUNTS"] = ";".join(f"{n}:{account_key(n)}" for n in names)
        command = [
            str(find_azurite()),
            "--location",
            str(self.location),
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
            "--cert",
            str(self.tls.cert_file),
            "--key",
            str(self.tls.key_file),
            "--oauth",
            "basic",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ]
        if self.log_file is None:
            command.append("--silent")
            output = subprocess.DEVNULL
            self._process = subprocess.Popen(
                command, env=env, stdout=output, stderr=output, preexec_fn=_die_with_parent
            )
        else:
            with self.log_file.open("ab") as log:
                self._process = subprocess.Popen(
                    command, env=env, stdout=log, stderr=log, preexec_fn=_die_with_parent
                )
        self._wait_ready(timeout)
        return self.endpoints

    def _wait_ready(self, timeout: float) -> None:
        context = ssl.create_default_context(cafile=str(self.tls.ca_file))
        deadline = time.monotonic() + timeout
        pending = {self.blob_port, self.queue_port, self.table_port}
        while pending:
            if self._process is not None and self._process.poll() is not None:
                raise AzuriteError(f"Azurite exited with code {self._process.returncode}.")
            if time.monotonic() > deadline:
                self.stop()
                raise AzuriteError(f"Azurite did not listen within {timeout:.0f} s.")
            for port in sorted(pending):
                try:
                    with (
                        socket.create_connection(("127.0.0.1", port), timeout=1) as raw,
                        context.wrap_socket(raw, server_hostname="127.0.0.1"),
                    ):
                        pending.discard(port)
                except OSError:
                    time.sleep(0.1)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
