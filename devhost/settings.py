"""What devhost reads from an app directory: local.settings.json, host.json, keys.

local.settings.json is the Functions Core Tools format:

    {"IsEncrypted": false,
     "Values": {"AzureWebJobsStorage": "UseDevelopmentStorage=true", ...},
     "Host": {"LocalHttpPort": 7071}}

Every entry of `Values` becomes an environment variable of the process before the app is
imported, unless the environment already defines it. Binding expressions (`%NAME%`),
connections and keys are looked up in `Values` first, then in the environment.
Keys (see README): `DEVHOST_FUNCTION_KEY`, `DEVHOST_MASTER_KEY` and `DEVHOST_SYSTEM_KEY` in
`Values`; a key left out is generated once and kept in the state directory's `keys.json`
(readable by its owner only). Keys are never written anywhere else: not to the log, not to
the console.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

SETTINGS_FILE = "local.settings.json"
HOST_FILE = "host.json"
FUNCTION_KEY_SETTING = "DEVHOST_FUNCTION_KEY"
MASTER_KEY_SETTING = "DEVHOST_MASTER_KEY"
SYSTEM_KEY_SETTING = "DEVHOST_SYSTEM_KEY"
KEYS_FILE = "keys.json"
# The state directory: the SQLite store, keys.json and the running host's runtime.json.
STATE_DIR = Path(".local") / "devhost"
DB_FILE = "devhost.sqlite3"
RUNTIME_FILE = "runtime.json"
DEFAULT_PORT = 7071
DEFAULT_HUB = "TestHubName"

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def state_dir_for(app_dir: Path, given: Path | str | None = None) -> Path:
    """The state directory given, else the app directory's own."""
    return Path(given).resolve() if given else app_dir.resolve() / STATE_DIR


class SettingsError(ValueError):
    """A settings file is missing, unreadable or holds a value devhost cannot use."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path.name} is not valid JSON (line {exc.lineno}): {exc.msg}."
        ) from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path.name} must hold a JSON object.")
    return data


def parse_timespan(text: str | int | float | None, default: timedelta) -> timedelta:
    """A .NET TimeSpan string ("00:00:30", "1.02:00:00") or a number of seconds."""
    if text is None:
        return default
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?", text.strip())
    if not match:
        raise SettingsError(f"host.json: {text!r} is not a TimeSpan like 00:00:30.")
    days, hours, minutes, seconds, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0")[:6])
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=micro,
    )


@dataclass(frozen=True)
class HostOptions:
    """The host.json settings devhost honours."""

    hub_name: str = DEFAULT_HUB
    max_concurrent_activities: int = 8
    max_concurrent_orchestrators: int = 4
    max_dequeue_count: int = 5
    queue_visibility_timeout: timedelta = timedelta(0)
    queue_batch_size: int = 16
    queue_max_polling_interval: timedelta = timedelta(seconds=2)
    queue_message_encoding: str = "base64"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostOptions:
        extensions = data.get("extensions") or {}
        durable = extensions.get("durableTask") or {}
        queues = extensions.get("queues") or {}
        encoding = str(queues.get("messageEncoding", "base64")).lower()
        if encoding not in ("base64", "none"):
            raise SettingsError(
                f"host.json: extensions.queues.messageEncoding is {encoding!r}; "
                "use 'base64' or 'none'."
            )
        return cls(
            hub_name=str(durable.get("hubName") or DEFAULT_HUB),
            max_concurrent_activities=max(1, int(durable.get("maxConcurrentActivityFunctions", 8))),
            max_concurrent_orchestrators=max(
                1, int(durable.get("maxConcurrentOrchestratorFunctions", 4))
            ),
            max_dequeue_count=max(1, int(queues.get("maxDequeueCount", 5))),
            queue_visibility_timeout=parse_timespan(queues.get("visibilityTimeout"), timedelta(0)),
            queue_batch_size=max(1, min(32, int(queues.get("batchSize", 16)))),
            queue_max_polling_interval=parse_timespan(
                queues.get("maxPollingInterval"), timedelta(seconds=2)
            ),
            queue_message_encoding=encoding,
        )


@dataclass
class Keys:
    """The keys of the Functions host, each granting what the real host grants.

    - the function key: HTTP triggers of auth level `function`;
    - the system key of the Durable extension (`durabletask_extension`): the Durable HTTP
      API (`/runtime/webhooks/durabletask/`) and nothing else; the management URLs the
      extension hands out carry it;
    - the master key: everything (the host's `AuthorizationLevel.Admin`).

    A key matches its own level only, as the host's `AuthUtility.PrincipalHasAuthLevelClaim`
    (`level == requiredLevel`, or Admin).
    """

    function_key: str
    master_key: str
    system_key: str

    def accepts(self, level: str, key: str | None) -> bool:
        level = level.lower()
        if level == "anonymous":
            return True
        if not key:
            return False
        if secrets.compare_digest(key, self.master_key):
            return True
        if level == "function":
            return secrets.compare_digest(key, self.function_key)
        if level == "system":
            return secrets.compare_digest(key, self.system_key)
        return False


@dataclass
class AppSettings:
    """Everything devhost reads from one app directory."""

    app_dir: Path
    values: dict[str, str] = field(default_factory=dict)
    host_section: dict[str, Any] = field(default_factory=dict)
    host: HostOptions = field(default_factory=HostOptions)

    @classmethod
    def load(cls, app_dir: Path, settings_file: Path | None = None) -> AppSettings:
        app_dir = app_dir.resolve()
        local = _read_json(settings_file or app_dir / SETTINGS_FILE)
        values = local.get("Values") or {}
        if not isinstance(values, dict):
            raise SettingsError(f"{SETTINGS_FILE}: 'Values' must be an object of strings.")
        host_section = local.get("Host") or {}
        return cls(
            app_dir=app_dir,
            values={str(k): "" if v is None else str(v) for k, v in values.items()},
            host_section=host_section if isinstance(host_section, dict) else {},
            host=HostOptions.from_json(_read_json(app_dir / HOST_FILE)),
        )

    def apply_environment(self) -> list[str]:
        """Export `Values` as environment variables (existing variables win).

        Returns the names it set, so a host that stops can take them back.
        """
        added = [name for name in self.values if name not in os.environ]
        for name in added:
            os.environ[name] = self.values[name]
        return added

    def get(self, name: str, environ: Mapping[str, str] | None = None) -> str | None:
        """A setting for devhost's own use: `Values` first, then the environment (this
        process's, or `environ`: a child process's)."""
        value = self.values.get(name)
        return (
            value if value is not None else (os.environ if environ is None else environ).get(name)
        )

    @property
    def port(self) -> int:
        return int(self.host_section.get("LocalHttpPort", DEFAULT_PORT))

    def resolve(self, text: str) -> str:
        """Replace `%NAME%` with the app setting NAME, as the host does for bindings."""

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            value = self.get(name)
            if value is None:
                raise SettingsError(f"The app setting '{name}' used as %{name}% is not defined.")
            return value

        return re.sub(r"%([^%]+)%", lookup, text)

    def keys(self, state_dir: Path, environ: Mapping[str, str] | None = None) -> Keys:
        """The keys from the settings, or generated once and kept in `state_dir`."""
        stored_path = state_dir / KEYS_FILE
        stored = _read_json(stored_path)
        if stored_path.exists():
            stored_path.chmod(0o600)  # a file from an older devhost may be world-readable
        names = {
            "functionKey": (FUNCTION_KEY_SETTING, 24),
            "masterKey": (MASTER_KEY_SETTING, 32),
            "systemKey": (SYSTEM_KEY_SETTING, 32),
        }
        found: dict[str, str] = {}
        missing = False
        for field_name, (setting, size) in names.items():
            value = self.get(setting, environ) or stored.get(field_name)
            if not value:
                value = stored[field_name] = secrets.token_urlsafe(size)
                missing = True
            found[field_name] = str(value)
        if missing:
            write_private(stored_path, json.dumps(stored, indent=2))
        return Keys(
            function_key=found["functionKey"],
            master_key=found["masterKey"],
            system_key=found["systemKey"],
        )

    def storage_connection(self, setting: str | None) -> str:
        """The connection string named by a binding's `connection` (default AzureWebJobsStorage)."""
        name = setting or "AzureWebJobsStorage"
        value = self.get(name) or self.get(f"AzureWebJobs{name}")
        if not value:
            raise SettingsError(
                f"The storage connection setting '{name}' is not defined in {SETTINGS_FILE}."
            )
        return expand_development_storage(value)


def write_settings(path: Path, values: Mapping[str, str], *, port: int = 0) -> Path:
    """A local.settings.json in the Core Tools format, readable by its owner only (it holds
    keys and secrets): `values` (a Python app unless they say otherwise) and the port."""
    settings = {
        "IsEncrypted": False,
        "Values": {"FUNCTIONS_WORKER_RUNTIME": "python", **values},
        "Host": {"LocalHttpPort": port},
    }
    write_private(path, json.dumps(settings, indent=2))
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (keys), replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def expand_development_storage(connection: str) -> str:
    """`UseDevelopmentStorage=true` as the explicit connection string of Azurite's defaults."""
    parts = dict(
        part.split("=", 1) for part in connection.strip().strip(";").split(";") if "=" in part
    )
    if parts.get("UseDevelopmentStorage", "").lower() != "true":
        return connection
    proxy = parts.get("DevelopmentStorageProxyUri", "http://127.0.0.1").rstrip("/")
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={proxy}:10000/{AZURITE_ACCOUNT};"
        f"QueueEndpoint={proxy}:10001/{AZURITE_ACCOUNT};"
        f"TableEndpoint={proxy}:10002/{AZURITE_ACCOUNT};"
    )
