"""`imagefactory validate --online` against the local world (real SDK, real HTTPS): the
example is valid; an artifact that does not exist, a misspelt or missing parameter and a
gallery base the lab does not allow are each caught with file:line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.azure import clients
from shared.cli.main import main
from tests.pipeline.conftest import World
from tests.pipeline.world import EXAMPLE


@pytest.fixture
def online(example_world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The factory's settings point at the local world (as app settings would)."""
    monkeypatch.setenv("IMAGEFACTORY_ARM_ENDPOINT", example_world.info.endpoint)
    monkeypatch.setenv("IMAGEFACTORY_CA_BUNDLE", example_world.info.ca_file)
    monkeypatch.setenv("IMAGEFACTORY_CREDENTIAL", "local")
    clients.reset()
    yield example_world
    clients.reset()


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1))


def test_the_example_is_valid_online(online: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--online", str(EXAMPLE)]) == 0, capsys.readouterr().err
    assert "valid: 4 image definition(s)" in capsys.readouterr().out


def test_each_mistake_is_caught_online_with_file_and_line(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "factory"
    shutil.copytree(EXAMPLE, root)
    base = root / "images" / "win2022-base.yaml"
    _replace(base, "  - name: windows-7zip", "  - name: windows-7zipp")
    _replace(base, "      packages:", "      pakages:")
    _replace(base, "sku: 2022-datacenter-azure-edition", "sku: 2025-datacenter-azure-edition")
    ubuntu = root / "images" / "ubuntu2204-base.yaml"
    ubuntu.write_text(ubuntu.read_text() + "testArtifacts:\n  - name: linux-apt-package\n")
    offline = main(["validate", str(root)])
    capsys.readouterr()
    assert offline == 0  # the files themselves are valid: only the lab knows
    assert main(["validate", "--online", str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    expected = [
        "images/win2022-base.yaml:5: base.gallery: 'MicrosoftWindowsServer/WindowsServer/"
        "2025-datacenter-azure-edition' is not among the factory lab's allowed gallery images "
        "(did you mean 'microsoftwindowsserver/windowsserver/2022-datacenter-azure-edition'?)",
        "images/win2022-base.yaml:12: artifacts[0].name: the artifact source 'public repo' "
        "has no artifact 'windows-7zipp' (did you mean 'windows-7zip'?).",
        "images/win2022-base.yaml:15: artifacts[1].parameters.pakages: the artifact "
        "'windows-chocolatey' has no parameter 'pakages' (did you mean 'packages'?)",
        "images/win2022-base.yaml:14: artifacts[1].parameters: the artifact "
        "'windows-chocolatey' needs the parameter(s) packages.",
    ]
    for line in expected:
        assert any(e.startswith(line) for e in err), (line, err)
    assert any(
        e.startswith("images/ubuntu2204-base.yaml:") and "testArtifacts[0]" in e for e in err
    ), err
    assert err[-1] == f"{len(err) - 1} problem(s) found."


def test_a_gallery_image_the_lab_policy_does_not_allow_is_refused(
    online: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows Server 2019 is in the gallery, but the factory lab's GalleryImage policy
    allows only the images the example uses."""
    root = tmp_path / "factory"
    shutil.copytree(EXAMPLE, root)
    base = root / "images" / "win2022-base.yaml"
    _replace(base, "sku: 2022-datacenter-azure-edition", "sku: 2019-Datacenter")
    assert main(["validate", "--online", str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(
        "images/win2022-base.yaml:5: base.gallery: 'MicrosoftWindowsServer/WindowsServer/"
        "2019-Datacenter' is not among the factory lab's allowed gallery images"
    ), err
    assert len(err) == 2, err
