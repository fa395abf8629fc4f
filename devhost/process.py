"""Run devhost as a separate process (end-to-end tests, `make run` scripts).

with DevHostProcess(app_dir, port=7071) as running:
    requests.post(f"{running.base_url}/api/runs?code={running.function_key}")
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devhost.settings import SETTINGS_FILE, AppSettings, state_dir_for, write_settings


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevHostProcess:
    """`python -m devhost start` in a child process, ready when its admin API answers.

    The app's settings come from `settings_file` (default: the app's local.settings.json)
    or from `values`, which are written as the state directory's local.settings.json.
    """

    def __init__(
        self,
        app_dir: Path | str,
        *,
        port: int | None = None,
        state_dir: Path | str | None = None,
        settings_file: Path | str | None = None,
        values: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        env: dict[str, str] | None = None,
        log_file: Path | str | None = None,
        drop_env: tuple[str, ...] = (),
    ) -> None:
        self.app_dir = Path(app_dir).resolve()
        self.port = port or free_port()
        self.state_dir = state_dir_for(self.app_dir, state_dir)
        if values is not None:
            if settings_file is not None:
                raise ValueError("DevHostProcess takes a settings file or values, not both.")
            settings_file = write_settings(self.state_dir / SETTINGS_FILE, values)
        self.settings_file = Path(settings_file).resolve() if settings_file else None
        self.extra_args = extra_args or []
        # This process's environment, less variables starting with a `drop_env` prefix
        # (app settings are environment variables: a test's own must not leak in).
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(drop_env)}
        self.env = {**inherited, **(env or {})}
        self.log_file = Path(log_file) if log_file else self.state_dir / "devhost.log"
        self.process: subprocess.Popen[bytes] | None = None
        # The keys the child will use: read from its environment and the key file.
        keys = AppSettings.load(self.app_dir, self.settings_file).keys(self.state_dir, self.env)
        self.function_key = keys.function_key
        self.master_key = keys.master_key
        self.system_key = keys.system_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DevHostProcess:
        command = [
            sys.executable,
            "-m",
            "devhost",
            "--app-dir",
            str(self.app_dir),
            "--state-dir",
            str(self.state_dir),
            "start",
            "--port",
            str(self.port),
            *(["--settings", str(self.settings_file)] if self.settings_file else []),
            *self.extra_args,
        ]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"devhost exited with code {self.process.returncode}; see {self.log_file}."
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"devhost did not answer within {timeout:.0f} s.")
            time.sleep(0.1)
        return self

    def _ready(self) -> bool:
        request = urllib.request.Request(
            f"{self.base_url}/admin/host/status", headers={"x-functions-key": self.master_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return bool(json.loads(response.read()).get("state") == "Running")
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def kill(self) -> None:
        """SIGKILL: the process dies without any cleanup (crash tests)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, and SIGKILL if it has not finished its work in flight within `timeout`."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def __enter__(self) -> DevHostProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
