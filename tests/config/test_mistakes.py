"""No silent mistakes: a typo in a lab's image list, a glob that matches nothing, and a run
that asks for an image the configuration does not define are each said, with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.cli.main import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from shared.config.loading import ConfigInvalid, load_directory
from shared.config.messages import unknown_images

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "factory"
    shutil.copytree(EXAMPLE, root)
    return root


def _set_images(root: Path, lab: str, entries: list[str]) -> None:
    path = root / "labs" / f"{lab}.yaml"
    head = path.read_text().split("images:")[0]
    tail = path.read_text().split("retention:")[1]
    listed = "".join(f'  - "{entry}"\n' for entry in entries)
    path.write_text(f"{head}images:\n{listed}retention:{tail}")


def test_a_misspelled_image_name_is_an_error_with_its_line_and_a_suggestion(
    tmp_path: Path,
) -> None:
    root = _copy(tmp_path)
    _set_images(root, "dev-weu", ["win2022-*", "ubuntu2404-dokcer"])
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("labs/dev-weu.yaml", 5, "images[1]")
    assert "'ubuntu2404-dokcer' is not an image definition" in problem.message
    assert "(did you mean 'ubuntu2404-docker'?)" in problem.message


def test_an_unknown_name_alone_is_one_problem_not_two(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _set_images(root, "data-eus", ["ubuntu2204-bsae"])
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    assert [str(p) for p in caught.value.problems] == [
        "labs/data-eus.yaml:4: images[0]: 'ubuntu2204-bsae' is not an image definition "
        "(did you mean 'ubuntu2204-base'?); expected the name (or a glob) of one of: "
        "ubuntu2204-base, ubuntu2404-docker, win2022-base, win2022-devtools."
    ]


def test_a_glob_that_matches_nothing_is_a_warning_that_does_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    _set_images(root, "dev-weu", ["win2022-*", "ubuntu2404-docker", "win2025-*"])
    factory = load_directory(root)
    assert factory.warnings == [
        "labs/dev-weu.yaml:6: images[2]: the glob 'win2025-*' matches no image definition; "
        "this lab selects only ubuntu2404-docker, win2022-base, win2022-devtools."
    ]
    assert main(["validate", str(root)]) == EXIT_OK
    captured = capsys.readouterr()
    assert "warning: labs/dev-weu.yaml:6: images[2]: the glob 'win2025-*'" in captured.err
    assert "1 warning(s)." in captured.out


def test_the_example_has_no_warnings() -> None:
    assert load_directory(EXAMPLE).warnings == []


def test_validate_exits_1_on_a_misspelled_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    _set_images(root, "qa-weu", ["win2022-devtols"])
    assert main(["validate", str(root)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "labs/qa-weu.yaml:" in err and "did you mean 'win2022-devtools'?" in err


def test_plan_refuses_an_unknown_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLE), "--image", "win2022-bse"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "--image: 'win2022-bse' (did you mean 'win2022-base'?) is not an image" in err


def test_plan_takes_a_known_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(EXAMPLE), "--image", "win2022-base"]) == EXIT_OK
    assert "win2022-base" in capsys.readouterr().out


def test_unknown_images_names_each_unknown_one() -> None:
    defined = ["a-one", "b-two"]
    assert unknown_images(["a-one"], defined) is None
    assert unknown_images(["a-one", "zzz", "b-tw"], defined) == (
        "'b-tw' (did you mean 'b-two'?), 'zzz' are not an image definition; "
        "expected names of: a-one, b-two"
    )
