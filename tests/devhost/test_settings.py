"""local.settings.json, host.json and keys as devhost reads them."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.host import DevHost
from devhost.process import DevHostProcess
from devhost.settings import (
    AppSettings,
    SettingsError,
    expand_development_storage,
    parse_timespan,
)
from tests.devhost.conftest import APP_DIR, copy_app


def test_development_storage_means_azurite_defaults() -> None:
    expanded = expand_development_storage("UseDevelopmentStorage=true")
    assert "AccountName=devstoreaccount1" in expanded
    assert "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;" in expanded
    explicit = (
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;QueueEndpoint=https://q/a;"
    )
    assert expand_development_storage(explicit) == explicit


def test_timespans() -> None:
    assert parse_timespan("00:00:30", timedelta(0)) == timedelta(seconds=30)
    assert parse_timespan("1.02:00:00", timedelta(0)) == timedelta(days=1, hours=2)
    assert parse_timespan("00:00:00.25", timedelta(0)) == timedelta(milliseconds=250)
    assert parse_timespan(None, timedelta(seconds=7)) == timedelta(seconds=7)
    with pytest.raises(SettingsError, match="not a TimeSpan"):
        parse_timespan("30s", timedelta(0))


def test_host_json_and_settings(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "extensions": {
                    "durableTask": {"hubName": "Hub", "maxConcurrentActivityFunctions": 3},
                    "queues": {"maxDequeueCount": 2, "visibilityTimeout": "00:00:05"},
                }
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"Values": {"SCHEDULE": "0 */5 * * * *"}, "Host": {"LocalHttpPort": 7080}}),
        encoding="utf-8",
    )
    settings = AppSettings.load(tmp_path)
    assert settings.host.hub_name == "Hub"
    assert settings.host.max_concurrent_activities == 3
    assert settings.host.max_dequeue_count == 2
    assert settings.host.queue_visibility_timeout == timedelta(seconds=5)
    assert settings.port == 7080
    assert settings.resolve("%SCHEDULE%") == "0 */5 * * * *"
    with pytest.raises(SettingsError, match="The app setting 'MISSING_SETTING_X'"):
        settings.resolve("%MISSING_SETTING_X%")
    with pytest.raises(SettingsError, match="'NoSuchConnection' is not defined"):
        settings.storage_connection("NoSuchConnection")


def test_generated_keys_are_kept(tmp_path: Path) -> None:
    settings = AppSettings.load(tmp_path)
    first = settings.keys(tmp_path / "state")
    again = AppSettings.load(tmp_path).keys(tmp_path / "state")
    assert first == again
    assert first.function_key != first.master_key
    assert first.accepts("function", first.function_key)
    assert not first.accepts("admin", first.function_key)
    assert first.accepts("admin", first.master_key)
    assert first.accepts("anonymous", None)


def test_invalid_settings_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text('{"Values": {', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"local.settings.json is not valid JSON \(line 1\)"):
        AppSettings.load(tmp_path)


def test_host_exports_values_and_takes_them_back(tmp_path: Path) -> None:
    app_dir = copy_app(tmp_path / "app")
    assert "DEVHOST_TEST_MARKER" not in os.environ
    with DevHost(app_dir, port=0, queues=False, timers=False, values={"DEVHOST_TEST_MARKER": "on"}):
        assert os.environ["DEVHOST_TEST_MARKER"] == "on"
    assert "DEVHOST_TEST_MARKER" not in os.environ


def test_a_child_process_given_values_reads_them_from_a_private_settings_file(
    tmp_path: Path,
) -> None:
    values = {"DEVHOST_FUNCTION_KEY": "from-values", "TEST_QUEUE": "q"}
    running = DevHostProcess(APP_DIR, state_dir=tmp_path / "state", values=values)
    assert running.settings_file == (tmp_path / "state" / "local.settings.json").resolve()
    assert running.settings_file.stat().st_mode & 0o777 == 0o600
    written = json.loads(running.settings_file.read_text(encoding="utf-8"))
    assert written["Values"] == {"FUNCTIONS_WORKER_RUNTIME": "python", **values}
    assert running.function_key == "from-values"
    with pytest.raises(ValueError, match="a settings file or values, not both"):
        DevHostProcess(APP_DIR, settings_file=running.settings_file, values=values)
