"""Every number in the configuration has an upper bound a real factory could need, the
bounds themselves never overflow a date or a timer, and Azure's limits on tags and names
are checked before a run."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Le
from pydantic import BaseModel

from shared.cli.main import EXIT_INVALID, EXIT_OK, main
from shared.config import models
from shared.config.loading import ConfigInvalid, load_directory, load_files
from shared.config.models import Model
from shared.model import naming, tags
from tests.config.test_config_hostile import _example_files

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    stack: list[type[BaseModel]] = [Model]
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        found.append(cls)
    return found


def _number_fields() -> list[tuple[str, str, Any]]:
    numbers = {int, float, int | None, float | None}
    return [
        (cls.__name__, name, info)
        for cls in _models()
        for name, info in cls.model_fields.items()
        if info.annotation in numbers
    ]


def test_every_number_in_the_configuration_has_an_upper_bound() -> None:
    fields = _number_fields()
    assert len(fields) >= 10, fields
    unbounded = [
        f"{model}.{name}"
        for model, name, info in fields
        if not any(isinstance(m, Le) for m in info.metadata)
    ]
    assert not unbounded


def test_the_upper_bounds_fit_in_dates_and_timers() -> None:
    """The largest accepted value, scaled by the largest time scale, is still a date."""
    scale = 100  # IMAGEFACTORY_TIME_SCALE's bound
    assert FAR_FUTURE + timedelta(days=models.MAX_AGE_DAYS) > FAR_FUTURE
    assert FAR_FUTURE - timedelta(days=models.MAX_AGE_DAYS) < FAR_FUTURE
    assert FAR_FUTURE + timedelta(minutes=models.MAX_STEP_MINUTES * scale) > FAR_FUTURE
    assert FAR_FUTURE + timedelta(hours=models.MAX_VM_TTL_HOURS * scale) > FAR_FUTURE


def _with(files: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in files[path], (old, path)
    return {**files, path: files[path].replace(old, new, 1)}


def _one_problem(files: dict[str, str]) -> str:
    with pytest.raises(ConfigInvalid) as caught:
        load_files(files)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    return problems[0]


F, IMG, LAB = "factory.yaml", "images/win2022-base.yaml", "labs/dev-weu.yaml"
AT_MOST = "expected a number of at most"
PARAMETER = "      scriptToRun:"
HUGE = [
    (F, "  keep: 3", "  keep: 1000000000", f"retention.keep: {AT_MOST} 100"),
    (F, "vmCreate: 60", "vmCreate: 99999999999", f"timeouts.vmCreate: {AT_MOST} 10080"),
    (F, "TtlHours: 24", "TtlHours: 10000000", f"timeouts.buildVmTtlHours: {AT_MOST} 720"),
    (F, "maxAgeDays: 30", "maxAgeDays: 1000000000", f"rebuild.maxAgeDays: {AT_MOST} 3650"),
    (IMG, "buildVmPrefix:", "rebuild: {maxAgeDays: 3651}\nbuildVmPrefix:", f"{AT_MOST} 3650"),
    (LAB, "keep: 2", "keep: 101", f"retention.keep: {AT_MOST} 100"),
    (IMG, PARAMETER, "      count: 1.0e+999\n" + PARAMETER, "expected a number between"),
    (
        IMG,
        PARAMETER,
        "      count: 99999999999999999999\n" + PARAMETER,
        "expected a number between",
    ),
]


@pytest.mark.parametrize(("path", "old", "new", "message"), HUGE)
def test_numbers_beyond_their_bound_are_one_problem_each(
    path: str, old: str, new: str, message: str
) -> None:
    problem = _one_problem(_with(_example_files(), path, old, new))
    assert problem.startswith(f"{path}:") and message in problem, problem


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_huge_max_age_is_refused_by_plan_and_the_largest_accepted_one_plans(
    tmp_path: Path,
) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    factory = root / "factory.yaml"
    text = factory.read_text()
    inventory = str(EXAMPLE.parent / "inventory.json")
    factory.write_text(text.replace("maxAgeDays: 30", "maxAgeDays: 1000000000"))
    code, _, err = _run(
        "plan", str(root), "--inventory", inventory, "--now", "2026-11-24T12:00:00Z"
    )
    assert code == EXIT_INVALID and "maxAgeDays: expected a number of at most 3650" in err
    assert "Traceback" not in err
    text = text.replace("maxAgeDays: 30", f"maxAgeDays: {models.MAX_AGE_DAYS}")
    text = text.replace("TtlHours: 24", f"TtlHours: {models.MAX_VM_TTL_HOURS}")
    factory.write_text(text.replace("vmCreate: 60", f"vmCreate: {models.MAX_STEP_MINUTES}"))
    code, out, err = _run(
        "plan", str(root), "--inventory", inventory, "--now", "9999-01-01T00:00:00Z"
    )
    assert (code, err) == (EXIT_OK, ""), err
    assert "Build" in out or "Unchanged" in out


# Azure's limits on tags ---------------------------------------------------------------------


def _tags(lines: list[str]) -> dict[str, str]:
    files = _example_files()
    body = "".join(f"  {line}\n" for line in lines)
    return _with(files, "images/win2022-base.yaml", "  owner: platform-team\n", body)


def test_the_factory_leaves_room_for_its_own_tags() -> None:
    assert models.MAX_IMAGE_TAGS + len(tags.ALL) == 50
    load_files(_tags([f"t{i}: v" for i in range(models.MAX_IMAGE_TAGS)]))
    problem = _one_problem(_tags([f"t{i}: v" for i in range(models.MAX_IMAGE_TAGS + 1)]))
    assert problem.startswith("images/win2022-base.yaml:20: tags: 40 tags; expected at most 39")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("n" * 513 + ": v", "expected text of at most 512 characters"),
        ("owner: " + "v" * 257, "the value of tag 'owner' has 257 characters; Azure allows 256"),
        ("'cost/center': x", "tag name 'cost/center' holds '/'"),
        ("'a<b': x", "tag name 'a<b' holds '<'"),
        ("'a?b': x", "tag name 'a?b' holds '?'"),
        ("imagefactory-id: other", "starts with 'imagefactory-', which is the factory's own"),
        ("ImageFactory-Family: x", "starts with 'imagefactory-'"),
    ],
)  # fmt: skip
def test_tag_names_and_values_follow_azure(line: str, message: str) -> None:
    problem = _one_problem(_tags([line]))
    assert problem.startswith("images/win2022-base.yaml:") and message in problem, problem


def test_tag_names_that_differ_only_in_case_are_one_tag() -> None:
    problem = _one_problem(_tags(["Owner: a", "owner: b"]))
    assert "tag names 'Owner' and 'owner' differ only in case" in problem


def test_the_longest_accepted_names_fit_devtest_labs() -> None:
    family = "a" * 40
    version = naming.version_for(FAR_FUTURE, "f" * 64)
    assert len(naming.image_name(family, version)) <= naming.CUSTOM_IMAGE_NAME_LIMIT
    files = _with(
        _example_files(), "images/win2022-base.yaml", "name: win2022-base", f"name: {family}"
    )
    files = _with(files, "images/win2022-devtools.yaml", "image: win2022-base", f"image: {family}")
    files = {k: v.replace('"win2022-*"', '"*"') for k, v in files.items()}
    files = {k: v.replace("- win2022-base", f"- {family}") for k, v in files.items()}
    factory = load_files({k: v for k, v in files.items() if "pinned" not in v})
    image = factory.images[family]
    name = naming.build_vm_name(image, naming.build_id(family, version))
    assert len(name) <= naming.VM_NAME_LIMIT[image.os]
    with pytest.raises(ConfigInvalid) as caught:
        load_files(_with(_example_files(), IMG, "name: win2022-base", f"name: {family}b"))
    assert str(caught.value).startswith("images/win2022-base.yaml:1: name: expected text matching")


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("w22base-abcdefgh", "would be 8 character(s) over DevTest Labs' 15-character limit"),
        ("1w22", "expected text matching"),
        ("w22_base", "expected text matching"),
    ],
)
def test_build_vm_prefixes_follow_devtest_labs_vm_names(prefix: str, message: str) -> None:
    files = _with(
        _example_files(),
        "images/win2022-base.yaml",
        "buildVmPrefix: w22base",
        f"buildVmPrefix: {prefix}",
    )
    problem = _one_problem(files)
    assert problem.startswith("images/win2022-base.yaml:19: buildVmPrefix:") and message in problem


def test_the_example_configuration_is_within_every_limit() -> None:
    load_directory(EXAMPLE)
