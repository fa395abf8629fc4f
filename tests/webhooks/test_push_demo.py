"""The push demo of `make run`: a local configuration repository, a commit, the webhook."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.push_demo import head, main
from shared.git.config_source import load_config
from tests.webhooks.conftest import App, devhost_process

SECRET = "demo-secret"


def test_the_push_demo_starts_a_run_over_its_commit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "config.git"
    values = {
        "IMAGEFACTORY_CONFIG_SOURCE": "git",
        "IMAGEFACTORY_CONFIG_LOCATION": str(repo),
        "IMAGEFACTORY_GITHUB_SECRET": SECRET,
        "IMAGEFACTORY_SCHEDULE": "0 0 2 * * *",
        "IMAGEFACTORY_ARM_ENDPOINT": "https://127.0.0.1:9",
        "IMAGEFACTORY_CREDENTIAL": "local",
    }
    with devhost_process(tmp_path, values) as url:
        app = App(url, values)
        arguments = ["--url", url, "--secret", SECRET, "--repo", str(repo)]
        assert main(arguments) == 0
        first = head(repo)
        # Once the first run has started, a second push cannot supersede its request.
        app.run_input(f"push-{first}", timeout=120)
        assert main(arguments) == 0  # a second change: a second commit, a second run
        second = head(repo)
        output = capsys.readouterr().out
        assert first and second and first != second
        assert f'"id": "push-{second}"' in output
        # The second push waits in the run queue until the first run is over.
        run = app.run_input(f"push-{second}", timeout=120)
        assert set(app.instances("push-")) == {f"push-{first}", f"push-{second}"}
        assert (run.source.location, run.source.commit) == (str(repo), second)
        assert run.trigger.changed_paths == ["images/ubuntu2204-base.yaml"]
        assert load_config(run.source).commit == second
        assert main([*arguments[:3], "wrong-secret", *arguments[4:]]) == 1
        assert "signature_invalid" in capsys.readouterr().out
