"""The deploy package: `.funcignore` ships the app and nothing else (no environment,
tests, local state or key), and `local.settings.json.example` names every setting the
app reads."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from dulwich.ignore import IgnoreFilter

from shared import telemetry
from shared.settings import Settings, load_settings, setting_names

ROOT = Path(__file__).resolve().parents[2]
APP = {"function_app.py", "host.json", "requirements.txt"}
APP_PACKAGES = {"shared", "triggers", "orchestrations", "activities"}


def _ignore() -> IgnoreFilter:
    lines = (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()
    return IgnoreFilter([line.encode() for line in lines])


def _published(path: str) -> bool:
    """Whether `func azure functionapp publish` uploads `path` (gitignore rules: a file is
    left out when it or any folder above it matches)."""
    rules = _ignore()
    parts = path.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        folder = prefix + "/" if end < len(parts) else prefix
        if rules.is_ignored(folder.encode()):
            return False
    return True


def _tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if line]


def test_the_package_is_the_app_and_its_packages_only() -> None:
    shipped = {path for path in _tracked() if _published(path)}
    tops = {path.split("/")[0] for path in shipped}
    assert tops == APP | APP_PACKAGES, sorted(tops)
    for package in APP_PACKAGES:
        sources = {p for p in _tracked() if p.startswith(package + "/") and p.endswith(".py")}
        assert sources <= shipped, sorted(sources - shipped)


@pytest.mark.parametrize(
    "path",
    [
        ".venv/lib/python3.11/site-packages/azure/__init__.py",
        ".venv-checkov/bin/checkov",
        "node_modules/azurite/package.json",
        ".local/ca/ca.key",
        ".local/ca/ca.pem",
        ".local/config.git/HEAD",
        "tests/conftest.py",
        "local.settings.json",
        "shared/__pycache__/config.cpython-311.pyc",
        "secrets/server.pem",
        "shared/signing.key",
        ".env",
        ".git/config",
        "emulator/server.py",
        "devhost/host.py",
    ],
)
def test_environments_local_state_tests_and_keys_are_never_uploaded(path: str) -> None:
    assert not _published(path)


def _example() -> dict[str, str]:
    data = json.loads((ROOT / "local.settings.json.example").read_text(encoding="utf-8"))
    assert data["IsEncrypted"] is False
    values = data["Values"]
    assert all(isinstance(v, str) for v in values.values())
    return values


def _settings_read_outside_settings_py() -> set[str]:
    """Settings read by name elsewhere in the app: the storage connection, telemetry."""
    names = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage"}
    names |= {telemetry.CONNECTION_SETTING, telemetry.AUTHENTICATION_SETTING}
    for package in APP_PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            names |= set(re.findall(r'connection="([A-Za-z_][A-Za-z0-9_]*)"', text))
    return names


def test_the_settings_example_names_every_setting_the_app_reads() -> None:
    values = _example()
    missing = (set(setting_names()) | _settings_read_outside_settings_py()) - set(values)
    assert not missing, sorted(missing)
    unknown = {n for n in values if n.startswith("IMAGEFACTORY_")} - set(setting_names())
    assert not unknown, sorted(unknown)


def test_the_settings_example_holds_no_secret_and_loads() -> None:
    values = _example()
    secrets = [
        "IMAGEFACTORY_" + name.upper()
        for name, field in Settings.model_fields.items()
        if "(secret)" in (field.description or "")
    ]
    assert secrets and all(values[name] == "" for name in secrets)
    settings = load_settings(values)
    assert settings.github_secret is None and settings.git_token is None
    assert settings.schedule == "0 0 2 * * *"
