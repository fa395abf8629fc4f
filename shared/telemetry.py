"""Logging through OpenTelemetry to Application Insights, with the run id on every record.

`configure_telemetry()` runs once when the Function App starts (function_app.py). With
`APPLICATIONINSIGHTS_CONNECTION_STRING` set it hands the process's logs and traces to the
Azure Monitor OpenTelemetry distro; without it (the local world, tests) it exports nothing.
Either way it installs `RunIdFilter` on the root logger's handlers, so a record logged
inside `run_scope(run_id)` carries `run_id` (and the attribute `imagefactory.run_id`,
which Application Insights shows in `customDimensions`). It never fails the app.

Activities get the run id from their payload (`activities._scope.run_scoped`); triggers
wrap what they do for a run in `run_scope`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

RUN_ID_ATTRIBUTE = "imagefactory.run_id"
RUN_ID_FIELD = "run_id"
RUN_ID_PAYLOAD_KEY = "runId"  # in every dict payload an orchestrator sends an activity
CONNECTION_SETTING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AUTHENTICATION_SETTING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"

_run_id: ContextVar[str | None] = ContextVar("imagefactory_run_id", default=None)
_exporting = False
log = logging.getLogger(__name__)


def current_run_id() -> str | None:
    """The run id of the code running now, if it runs for a run."""
    return _run_id.get()


def run_id_of(instance_id: str) -> str:
    """The run id of an orchestration instance: `<run id>:build:...` belongs to `<run id>`."""
    return instance_id.split(":", 1)[0]


@contextmanager
def run_scope(run_id: str | None) -> Iterator[None]:
    """Everything logged inside carries `run_id`; the current span gets it as an attribute."""
    token = _run_id.set(run_id or None)
    try:
        if run_id:
            _tag_current_span(run_id)
        yield
    finally:
        _run_id.reset(token)


class RunIdFilter(logging.Filter):
    """Puts the current run id on a record (as `run_id` and `imagefactory.run_id`).

    OpenTelemetry's logging handler turns a record's extra attributes into log attributes,
    so both reach Application Insights. Records outside a run are left as they are.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = _run_id.get()
        if run_id is not None:
            setattr(record, RUN_ID_FIELD, run_id)
            setattr(record, RUN_ID_ATTRIBUTE, run_id)
        return True


_FILTER = RunIdFilter()


def install_run_id_filter(logger: logging.Logger | None = None) -> None:
    """Add the run id filter to every handler of `logger` (the root logger), once each."""
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RunIdFilter) for f in handler.filters):
            handler.addFilter(_FILTER)


def configure_telemetry(environ: Mapping[str, str] | None = None) -> bool:
    """Export to Application Insights when its connection string is set; True if exporting.

    Safe to call more than once, and it never raises: telemetry that cannot start is
    logged as a warning and the app runs without it.
    """
    global _exporting
    env = os.environ if environ is None else environ
    connection = env.get(CONNECTION_SETTING, "")
    if connection and not _exporting:
        try:
            _exporting = _configure_azure_monitor(connection, env)
        except Exception as exc:
            log.warning("Application Insights export is off: %s", exc)
    try:
        install_run_id_filter()
    except Exception as exc:  # a handler that refuses filters must not stop the app
        log.warning("run ids are not added to log records: %s", exc)
    return _exporting


def _configure_azure_monitor(connection: str, env: Mapping[str, str]) -> bool:
    from opentelemetry import trace

    if type(trace.get_tracer_provider()).__module__.startswith("opentelemetry.sdk"):
        return True  # the Functions worker already configured the distro: export once only
    from azure.monitor.opentelemetry import configure_azure_monitor

    options: dict[str, Any] = {"connection_string": connection}
    credential = _entra_credential(env.get(AUTHENTICATION_SETTING, ""))
    if credential is not None:
        options["credential"] = credential
    configure_azure_monitor(**options)
    return True


def _entra_credential(authentication: str) -> Any:
    """`Authorization=AAD;ClientId=<id>`: ingest with the user-assigned identity, no key."""
    parts = dict(
        part.split("=", 1) for part in authentication.split(";") if "=" in part and part.strip()
    )
    if parts.get("Authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = parts.get("ClientId")
    if client_id:
        return ManagedIdentityCredential(client_id=client_id)
    return ManagedIdentityCredential()


def _tag_current_span(run_id: str) -> None:
    try:
        from opentelemetry import trace

        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(RUN_ID_ATTRIBUTE, run_id)
    except Exception:  # telemetry never fails the work it describes
        return
