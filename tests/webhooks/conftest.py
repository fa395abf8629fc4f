"""Fixtures of the webhook tests: a Git smart-HTTP server with a token, and pushes to it."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from dulwich import porcelain

from scripts.push_demo import init_repository
from shared.function_names import FACTORY_RUN
from shared.run.request import RunRequest
from tests.localworld import app_process, functions_storage
from tests.webhooks.gitserver import GitServer
from tests.webhooks.payloads import Delivery

GIT_TOKEN = "git-token-for-tests"
CONFIG_FOLDER = "factory"
MASTER_KEY = "webhooks-e2e-master-key"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ConfigRepo:
    """A configuration repository served over HTTP, and a local clone to commit and push from."""

    server: GitServer
    url: str
    work: Path

    def push(self, branch: str = "main", *, force: bool = False) -> None:
        """Push the local branch to the server over smart HTTP, with the token."""
        porcelain.push(
            str(self.work),
            self.url,
            f"refs/heads/{branch}",
            username="x-access-token",
            password=self.server.token,
            outstream=io.BytesIO(),
            errstream=io.BytesIO(),
            force=force,
        )


@dataclass
class App:
    """The Function App under devhost: its webhook routes and the Durable HTTP API."""

    url: str
    settings: dict[str, str]

    def hook(self, provider: str) -> str:
        return f"{self.url}/api/webhooks/{provider}"

    def durable(self, path: str, **query: str) -> requests.Response:
        params = {"code": MASTER_KEY, **query}
        return requests.get(
            f"{self.url}/runtime/webhooks/durabletask/{path}", params=params, timeout=30
        )

    def instances(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        response = self.durable("instances", instanceIdPrefix=prefix, showInput="true")
        assert response.status_code == 200, response.text
        return {i["instanceId"]: i for i in response.json()}

    def run_input(self, instance_id: str, timeout: float = 30.0) -> RunRequest:
        """The input of a `factory_run` instance, as the status API shows it, once the run
        coordinator has started it (it takes the request from the run queue)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.durable(f"instances/{instance_id}", showInput="true")
            if response.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert response.status_code in (200, 202), response.text
        status = response.json()
        assert status["name"] == FACTORY_RUN
        value = status["input"]
        return RunRequest.model_validate(json.loads(value) if isinstance(value, str) else value)

    def post(self, provider: str, delivery: Delivery) -> requests.Response:
        return requests.post(
            self.hook(provider), data=delivery.body, headers=delivery.headers, timeout=30
        )


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    with GitServer(tmp_path_factory.mktemp("git-server"), GIT_TOKEN) as server:
        yield server


@pytest.fixture
def config_repo(git_server: GitServer, tmp_path: Path) -> ConfigRepo:
    """A new repository on the server holding examples/factory under `factory/`."""
    name = f"config-{len(git_server.repos)}"
    url, _ = git_server.create(name)
    work = tmp_path / "work.git"
    init_repository(work, folder=CONFIG_FOLDER)
    repo = ConfigRepo(git_server, url, work)
    repo.push()
    return repo


@contextmanager
def devhost_process(work_dir: Path, values: dict[str, str]) -> Iterator[str]:
    """devhost running the real function_app.py with `values` as app settings; its URL.

    A process of its own: app settings are environment variables, and this process's
    IMAGEFACTORY_* variables are not passed on. The Functions storage (AzureWebJobsStorage,
    which holds the run queue) is an Azurite of its own; its settings are added to `values`.
    """
    with functions_storage(work_dir) as storage:
        for name, value in storage.items():
            values.setdefault(name, value)
        process = app_process(
            ROOT, work_dir, {"DEVHOST_MASTER_KEY": MASTER_KEY, **values}, queues=False
        )
        try:
            process.start()
            yield process.base_url
        finally:
            # devhost finishes the activities in flight before it exits; runs that reach for
            # an Azure that is not there retry for a while, and their state is thrown away.
            process.stop(timeout=3)
