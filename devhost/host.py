"""DevHost: one Function App running on this machine.

    with DevHost(app_dir, port=0) as host:
        requests.post(f"{host.base_url}/api/start?code={host.function_key}")

Start order: settings (exported to the environment), the app (imported once), the SQLite
store, the engine (orchestrations, activities, durable timers), the HTTP server, timer
triggers and queue pollers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from devhost import http
from devhost.engine import Engine, EngineError
from devhost.invoke import OutValue, shared_invoker
from devhost.loader import FunctionInfo, LoadedApp, load_app
from devhost.settings import (
    DB_FILE,
    KEYS_FILE,
    RUNTIME_FILE,
    AppSettings,
    Keys,
    SettingsError,
    state_dir_for,
)
from devhost.store import Store
from devhost.triggers import QueuePoller, TimerTriggers, enqueue_now, send_messages

log = logging.getLogger("devhost")


class DevHost:
    """Runs one app directory's `function_app.py`: HTTP, durable, timers and queues."""

    def __init__(
        self,
        app_dir: Path | str,
        *,
        port: int | None = None,
        address: str = "127.0.0.1",
        state_dir: Path | str | None = None,
        settings_file: Path | str | None = None,
        values: dict[str, str] | None = None,
        timers: bool = True,
        queues: bool = True,
        limits: http.RequestLimits | None = None,
    ) -> None:
        """`values` are added to (and override) the settings file's `Values`; `limits`
        replaces the request limits (the body size limit otherwise comes from
        `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`, as on the Functions host)."""
        self.app_dir = Path(app_dir).resolve()
        self.state_dir = state_dir_for(self.app_dir, state_dir)
        self.settings = AppSettings.load(
            self.app_dir, Path(settings_file) if settings_file else None
        )
        self.settings.values.update(values or {})
        self.address = address
        self.requested_port = self.settings.port if port is None else port
        self.enable_timers = timers
        self.enable_queues = queues
        self.limits = limits or http.RequestLimits(max_body_bytes=self._max_body())
        self._started = False
        self._lock = threading.Lock()

    # Lifecycle ----------------------------------------------------------------------------

    def start(self) -> DevHost:
        # A runtime.json left by a killed process must not look like this one.
        (self.state_dir / RUNTIME_FILE).unlink(missing_ok=True)
        self._exported = self.settings.apply_environment()
        self.app: LoadedApp = load_app(self.app_dir)
        for name, reason in self.app.unsupported.items():
            log.warning("function %s is not run: %s", name, reason)
        self.keys: Keys = self.settings.keys(self.state_dir)
        self.function_key = self.keys.function_key
        self.master_key = self.keys.master_key
        self.system_key = self.keys.system_key  # the Durable extension's (durabletask_extension)
        self.store = Store(self.state_dir / DB_FILE)
        self.invoker = shared_invoker(str(self.app_dir))
        guard_setting = (self.settings.get("DEVHOST_ORCHESTRATOR_GUARD") or "on").lower()
        self.engine = Engine(
            self.app,
            self.store,
            self.settings.host,
            self.invoke,
            determinism_guard=guard_setting not in ("off", "false", "0"),
        )
        self.routes = self._routes()
        self.timers = TimerTriggers(
            self.app.of_type("timerTrigger"), self.settings, self.store, self.invoke
        )
        self.app.unsupported.update(self.timers.refused)
        self.pollers = self._queue_pollers() if self.enable_queues else []
        self.server, self._server_thread = http.serve(self, self.address, self.requested_port)
        self.port = int(self.server.server_address[1])
        self.base_url = f"http://{self.address}:{self.port}"
        # The client binding's rpcBaseUrl: loopback only, on its own port, without a key.
        self.rpc_server, self._rpc_thread = http.serve(self, "127.0.0.1", 0, rpc_only=True)
        self.rpc_base_url = (
            f"http://127.0.0.1:{self.rpc_server.server_address[1]}{http.RPC_PREFIX}/"
        )
        self.engine.start()
        if self.enable_timers:
            self.timers.start()
        for poller in self.pollers:
            poller.start()
        self._write_runtime()
        self._started = True
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        for poller in self.pollers:
            poller.stop()
        self.timers.stop()
        for server in (self.server, self.rpc_server):
            server.shutdown()
            server.server_close()
        self.engine.stop()
        self.store.close()
        runtime = self.state_dir / RUNTIME_FILE
        runtime.unlink(missing_ok=True)
        for name in self._exported:
            os.environ.pop(name, None)

    def __enter__(self) -> DevHost:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _routes(self) -> list[http.Route]:
        """The HTTP triggers' routes, those with fewer parameters and longer first."""
        routes = [
            http.Route.compile(info, self._route_prefix())
            for info in self.app.of_type("httpTrigger")
        ]
        return sorted(
            routes, key=lambda r: (r.pattern.pattern.count("(?P"), -len(r.pattern.pattern))
        )

    def _queue_pollers(self) -> list[QueuePoller]:
        pollers = []
        for info in self.app.of_type("queueTrigger"):
            try:
                pollers.append(QueuePoller(info, self.settings, self.invoke))
            except (SettingsError, ValueError) as exc:
                # As the Functions host: the function does not run, the others do.
                log.error("queue function %s is not run: %s", info.name, exc)
                self.app.unsupported[info.name] = str(exc)
        return pollers

    def _max_body(self) -> int:
        text = self.settings.get("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT")
        if text is None or not text.strip():
            return http.DEFAULT_MAX_BODY
        if not re.fullmatch(r"[0-9]{1,19}", text.strip()) or int(text) <= 0:
            raise SettingsError(
                f"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT is {text!r}; use a positive number of bytes."
            )
        return int(text)

    def _route_prefix(self) -> str:
        host_json = self.app_dir / "host.json"
        try:
            data = json.loads(host_json.read_text(encoding="utf-8-sig"))
        except (FileNotFoundError, json.JSONDecodeError):
            return "api"
        prefix = ((data.get("extensions") or {}).get("http") or {}).get("routePrefix")
        return "api" if prefix is None else str(prefix)

    def _write_runtime(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        partial = self.state_dir / (RUNTIME_FILE + ".tmp")
        partial.write_text(
            json.dumps({"url": self.base_url, "pid": os.getpid(), "appDir": str(self.app_dir)}),
            encoding="utf-8",
        )
        os.replace(partial, self.state_dir / RUNTIME_FILE)  # readers never see half a file

    # Keys and URLs ------------------------------------------------------------------------

    @property
    def keys_file(self) -> Path:
        return self.state_dir / KEYS_FILE

    def management_urls(self, instance_id: str) -> dict[str, str]:
        return http.management_urls(
            self.base_url, self.settings.host.hub_name, self.system_key, instance_id
        )

    def client_binding(self) -> str:
        return http.client_binding(
            self.base_url, self.settings.host.hub_name, self.system_key, self.rpc_base_url
        )

    def url(self, route: str, **query: str) -> str:
        """The URL of an HTTP-triggered route with the function key (for tests and tools)."""
        params = "&".join(f"{k}={v}" for k, v in {"code": self.function_key, **query}.items())
        return f"{self.base_url}/api/{route.lstrip('/')}?{params}"

    # Invoking functions -------------------------------------------------------------------

    def invoke(self, info: FunctionInfo, kwargs: dict[str, Any]) -> Any:
        """Call a function with its trigger argument; fill client and output bindings."""
        outputs: dict[str, tuple[dict[str, Any], OutValue]] = {}
        for binding in info.bindings:
            name = str(binding.get("name"))
            if binding.get("type") == "durableClient" and name in info.parameters:
                kwargs[name] = self.client_binding()
            elif binding.get("type") == "queue" and name != "$return" and name in info.parameters:
                value = OutValue()
                kwargs[name] = value
                outputs[name] = (binding, value)
        result = self.invoker.call(info, kwargs)
        for binding, value in outputs.values():
            send_messages(self.settings, binding, value.get())
        for binding in info.output_bindings("queue"):
            if binding.get("name") == "$return":
                send_messages(self.settings, binding, result)
        return result

    def run_function_now(self, name: str, text: str = "") -> None:
        """The admin API: run a timer or queue function now (as POST /admin/functions/NAME)."""
        info = self.app.functions.get(name) or next(
            (f for f in self.app.functions.values() if f.name.lower() == name.lower()), None
        )
        if info is None:
            raise EngineError(404, f"No function named '{name}' in this app.")
        if info.trigger_type == "timerTrigger":
            self.timers.fire_now(info.name)
            return
        if info.trigger_type == "queueTrigger":
            threading.Thread(
                target=enqueue_now, args=(self.invoke, info, text), daemon=True
            ).start()
            return
        raise EngineError(
            400,
            f"Function '{name}' has a {info.trigger_type}; the admin API runs timer and "
            "queue functions only.",
        )

    def describe(self) -> dict[str, Any]:
        return {
            "state": "Running" if self._started else "Stopped",
            "url": self.base_url,
            "rpcUrl": self.rpc_base_url,
            "appDir": str(self.app_dir),
            "stateDir": str(self.state_dir),
            "hubName": self.settings.host.hub_name,
            "functions": [
                {"name": f.name, "trigger": f.trigger_type} for f in self.app.functions.values()
            ],
            "unsupported": self.app.unsupported,
            "replays": self.engine.stats.replays,
            "activitiesRun": self.engine.stats.activities_run,
        }
