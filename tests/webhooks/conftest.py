"""Fixtures of the webhook tests: a Git smart-HTTP server with a token, and pushes to it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dulwich import porcelain

from scripts.push_demo import init_repository
from tests.webhooks.gitserver import GitServer

GIT_TOKEN = "git-token-for-tests"
CONFIG_FOLDER = "factory"


@dataclass
class ConfigRepo:
    """A configuration repository served over HTTP, and a local clone to commit and push from."""

    server: GitServer
    url: str
    work: Path

    def push(self, branch: str = "main") -> None:
        """Push the local branch to the server over smart HTTP, with the token."""
        porcelain.push(
            str(self.work),
            self.url,
            f"refs/heads/{branch}",
            username="x-access-token",
            password=self.server.token,
            outstream=io.BytesIO(),
            errstream=io.BytesIO(),
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
