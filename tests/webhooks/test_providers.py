"""Every webhook provider of the registry is whole: in the manner of Cloud Custodian's
meta-tests, a provider that lacks its function, settings, docs row or tests fails here.

A provider is one module of `shared/webhooks/providers/`; what it needs besides:
- its function, a constant of `shared/function_names.py`, registered in `function_app.py`
  as an anonymous `POST webhooks/<key>` HTTP trigger;
- its settings: fields of `shared.settings.Settings`, each an app setting in
  `local.settings.json.example`;
- its row in the README's table of webhook endpoints: its title, URL, `setup` and settings;
- its tests: `tests/webhooks/providers/test_<module>.py`, and a test delivery in
  `tests/webhooks/payloads.py` that the intake accepts (so every property of
  `test_intake.py` runs over it).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

import shared.function_names as names
from devhost.loader import LoadedApp, load_app
from shared.settings import Settings, setting_names
from shared.webhooks.intake import StartRun, receive
from shared.webhooks.provider import WebhookProvider
from shared.webhooks.providers import PROVIDERS
from shared.webhooks.providers import github as github_module
from tests.webhooks import payloads as p

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS_DIR = ROOT / "shared" / "webhooks" / "providers"
TESTS_DIR = ROOT / "tests" / "webhooks" / "providers"


def provider_modules() -> dict[str, WebhookProvider]:
    """Module name -> the PROVIDER it defines, for every module of the providers package."""
    found: dict[str, WebhookProvider] = {}
    for path in sorted(PROVIDERS_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = __import__(f"shared.webhooks.providers.{path.stem}", fromlist=["PROVIDER"])
        found[path.stem] = module.PROVIDER
    return found


def readme_rows(readme: str) -> list[str]:
    """The rows of the README's table of webhook endpoints."""
    section = readme.split("### The webhook endpoints", 1)[-1]
    table = section.split("\n\n")[1] if "\n\n" in section else ""
    return [line for line in table.splitlines() if line.startswith("|")][2:]


def example_settings() -> set[str]:
    document = json.loads((ROOT / "local.settings.json.example").read_text(encoding="utf-8"))
    return set(document["Values"])


def function_problems(provider: WebhookProvider, app: LoadedApp) -> list[str]:
    constants = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    if provider.function_name not in constants:
        return [f"{provider.key}: '{provider.function_name}' is no constant of function_names"]
    info = app.functions.get(provider.function_name)
    if info is None:
        return [f"{provider.key}: '{provider.function_name}' is not registered in function_app"]
    trigger = info.trigger
    wanted = {
        "type": "httpTrigger",
        "route": f"webhooks/{provider.key}",
        "methods": ["POST"],
        "authLevel": "ANONYMOUS",
    }
    got = {
        "type": trigger.get("type"),
        "route": trigger.get("route"),
        "methods": [str(m).upper() for m in trigger.get("methods") or []],
        "authLevel": str(trigger.get("authLevel", "")).upper(),
    }
    return [] if got == wanted else [f"{provider.key}: its trigger is {got}, not {wanted}"]


def settings_problems(provider: WebhookProvider, example: set[str]) -> list[str]:
    problems = [
        f"{provider.key}: '{name}' is no field of Settings"
        for name in provider.settings
        if name not in Settings.model_fields
    ]
    if not provider.enabled_by or not set(provider.enabled_by) <= set(provider.settings):
        problems.append(f"{provider.key}: enabled_by must name some of its settings")
    for setting in provider.app_settings:
        if setting not in setting_names():
            problems.append(f"{provider.key}: {setting} is not a setting the factory reads")
        if setting not in example:
            problems.append(f"{provider.key}: {setting} is missing in local.settings.json.example")
    return problems


def docs_problems(provider: WebhookProvider, rows: list[str]) -> list[str]:
    url = f"`POST /api/webhooks/{provider.key}`"
    row = next((r for r in rows if url in r), None)
    if row is None:
        return [f"{provider.key}: the README's webhook table has no row for {url}"]
    cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
    problems = [] if cells[0] == provider.title else [f"{provider.key}: its row names {cells[0]}"]
    if cells[2] != provider.setup:
        problems.append(f"{provider.key}: its README row's set-up is not the provider's setup")
    problems += [
        f"{provider.key}: its README row does not name {setting}"
        for setting in provider.app_settings
        if f"`{setting}`" not in row
    ]
    return problems


def missing_tests(module: str, tests_dir: Path) -> list[str]:
    path = tests_dir / f"test_{module}.py"
    if not path.is_file():
        return [f"{module}: no tests in {path.name}"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    return [] if tests else [f"{module}: {path.name} holds no test"]


@pytest.fixture(scope="module")
def app() -> LoadedApp:
    return load_app(ROOT)


def test_every_provider_module_is_registered_once() -> None:
    modules = provider_modules()
    assert len(modules) >= 3, modules
    assert sorted(p.key for p in modules.values()) == sorted(PROVIDERS)
    for provider in modules.values():
        assert PROVIDERS[provider.key] is provider
        assert re.fullmatch(r"[a-z][a-z0-9-]*", provider.key), provider.key


@pytest.mark.parametrize("module", sorted(provider_modules()))
def test_the_provider_is_whole(module: str, app: LoadedApp) -> None:
    provider = provider_modules()[module]
    rows = readme_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    problems = [
        *function_problems(provider, app),
        *settings_problems(provider, example_settings()),
        *docs_problems(provider, rows),
        *missing_tests(module, TESTS_DIR),
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", sorted(PROVIDERS))
def test_the_test_deliveries_cover_the_provider(key: str) -> None:
    delivery = p.sign(key, p.payload_for(key, "a" * 40))
    outcome = receive(key, delivery.headers, delivery.body, p.settings())
    assert isinstance(outcome, StartRun) and outcome.push.provider == key


def test_every_registered_webhook_function_belongs_to_a_provider(app: LoadedApp) -> None:
    routes = {
        str(info.trigger.get("route")): name
        for name, info in app.functions.items()
        if info.trigger_type == "httpTrigger"
    }
    webhooks = {route: name for route, name in routes.items() if route.startswith("webhooks/")}
    assert webhooks == {f"webhooks/{k}": p.function_name for k, p in PROVIDERS.items()}


# The checks above catch what they are for ---------------------------------------------------


def test_the_checks_catch_a_provider_that_lacks_its_parts(app: LoadedApp, tmp_path: Path) -> None:
    github = github_module.PROVIDER
    assert not function_problems(github, app)
    lacking = replace(
        github,
        key="bitbucket",
        title="Bitbucket",
        function_name="webhook_bitbucket",
        settings=("bitbucket_secret",),
        enabled_by=("bitbucket_secret",),
    )
    assert function_problems(lacking, app) == [
        "bitbucket: 'webhook_bitbucket' is no constant of function_names"
    ]
    unrouted = replace(github, key="bitbucket")  # GitHub's function, another route
    assert "its trigger is" in function_problems(unrouted, app)[0]
    assert settings_problems(lacking, example_settings()) == [
        "bitbucket: 'bitbucket_secret' is no field of Settings",
        "bitbucket: IMAGEFACTORY_BITBUCKET_SECRET is not a setting the factory reads",
        "bitbucket: IMAGEFACTORY_BITBUCKET_SECRET is missing in local.settings.json.example",
    ]
    rows = readme_rows((ROOT / "README.md").read_text(encoding="utf-8"))
    assert docs_problems(lacking, rows) == [
        "bitbucket: the README's webhook table has no row for `POST /api/webhooks/bitbucket`"
    ]
    unnamed = replace(github, settings=("github_secret", "webhook_branch"))
    assert docs_problems(unnamed, rows) == [
        "github: its README row does not name IMAGEFACTORY_WEBHOOK_BRANCH"
    ]
    assert docs_problems(replace(github, setup="Settings → Hooks"), rows) == [
        "github: its README row's set-up is not the provider's setup"
    ]
    (tmp_path / "test_empty.py").write_text("def helper() -> None:\n    pass\n")
    assert missing_tests("bitbucket", tmp_path)[0].startswith("bitbucket: no tests in")
    assert missing_tests("empty", tmp_path)[0].endswith("holds no test")
