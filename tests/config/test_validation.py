"""Validation reports every problem in one pass, each with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.config.loading import ConfigInvalid, load_directory, load_files

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"


def test_example_configuration_is_valid() -> None:
    factory = load_directory(EXAMPLE)
    assert set(factory.images) == {
        "ubuntu2204-base",
        "ubuntu2404-docker",
        "win2022-base",
        "win2022-devtools",
    }
    assert factory.images["win2022-devtools"].base.image == "win2022-base"
    oses = [image.os.value for image in factory.images.values()]
    assert oses.count("Windows") >= 2 and oses.count("Linux") >= 2
    subscriptions = {lab.lab.split("/")[2] for lab in factory.labs.values()}
    assert len(factory.labs) >= 3 and len(subscriptions) >= 2


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


# (file, line, fragment of the message) for every planted mistake.
PLANTED = [
    ("factory.yaml", 4, "factoryLab: subscription 'not-a-guid'"),
    ("factory.yaml", 5, "schedule: schedule '0 0 2 * *' has 5 fields; expected six"),
    ("factory.yaml", 7, "concurrency.builds: expected a whole number, got 'four'"),
    ("factory.yaml", 18, "retention.keep: expected a number of at least 1, got 0"),
    ("images/win2022-base.yaml", 10, "vmsize: unknown key 'vmsize' (did you mean 'vmSize'?)"),
    ("images/win2022-base.yaml", 19, "buildVmPrefix: build VM names 'win2022baseline-xxxxxx'"),
    ("images/win2022-devtools.yaml", 5, "base.image: base image 'win2022-bse' is not an image"),
    ("images/ubuntu2204-base.yaml", 3, "os: expected one of 'Windows' or 'Linux', got 'Linuxx'"),
    ("images/ubuntu2404-docker.yaml", 1, "name: image name 'ubuntu2204-base' is already defined"),
    ("images/cyc-a.yaml", 4, "base.image: layering cycle cyc-a -> cyc-b -> cyc-a"),
    ("images/cyc-b.yaml", 8, "artifacts[0].parameters.p: expected text, a number or true/false"),
    ("labs/data-eus.yaml", 3, "images: selects no image: none of 'ubuntu-*' matches"),
    ("labs/dev-weu.yaml", 5, "images[1]: 'ubuntu2404-docker' is not an image definition"),
    ("labs/dev-weu.yaml", 7, "retention.keep: expected a number of at least 1, got -1"),
    ("labs/qa-weu.yaml", 2, "lab: '/subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c/"),
    ("labs/qa-weu.yaml", 10, "pinned.win2022-base[0]: 'v1' is not a version"),
]


# What plants most of those mistakes in the example: per file, (text, what replaces it).
PLANTING = {
    "factory.yaml": [
        ("6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c/", "not-a-guid/"),
        ('schedule: "0 0 2 * * *"', 'schedule: "0 0 2 * *"'),
        ("  keep: 3", "  keep: 0"),
        ("  builds: 4", "  builds: four"),
    ],
    "images/win2022-base.yaml": [
        ("vmSize:", "vmsize:"),
        ("buildVmPrefix: w22base", "buildVmPrefix: win2022baseline"),
    ],
    "images/win2022-devtools.yaml": [("  image: win2022-base", "  image: win2022-bse")],
    "images/ubuntu2204-base.yaml": [("os: Linux", "os: Linuxx")],
    "images/ubuntu2404-docker.yaml": [("name: ubuntu2404-docker", "name: ubuntu2204-base")],
    "labs/data-eus.yaml": [('  - "ubuntu*"', '  - "ubuntu-*"')],
    "labs/qa-weu.yaml": [("DevTestLab/labs/qa-weu", "DevTestLab/lab/qa-weu")],
    "labs/dev-weu.yaml": [("  keep: 2", "  keep: -1")],
}


def test_a_dozen_planted_mistakes_are_all_reported_with_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    shutil.copytree(EXAMPLE, root)
    for file, edits in PLANTING.items():
        for old, new in edits:
            _replace(root / file, old, new)
    (root / "labs/qa-weu.yaml").write_text(
        (root / "labs/qa-weu.yaml").read_text() + "pinned:\n  win2022-base:\n    - v1\n"
    )
    (root / "images/cyc-a.yaml").write_text("name: cyc-a\nos: Linux\nbase:\n  image: cyc-b\n")
    (root / "images/cyc-b.yaml").write_text(
        "name: cyc-b\nos: Linux\nbase:\n  image: cyc-a\nartifacts:\n  - name: x\n"
        "    parameters:\n      p: [1, 2]\n"
    )

    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    lines = [str(p) for p in caught.value.problems]
    for file, line, fragment in PLANTED:
        expected = f"{file}:{line}: {fragment}"
        assert any(text.startswith(expected) for text in lines), (expected, lines)
    assert len(lines) == len(PLANTED), lines
    for text in lines:  # one sentence each
        assert text.endswith(".") and "\n" not in text


def test_yaml_syntax_and_duplicate_keys_name_the_line() -> None:
    files = {
        "factory.yaml": "factoryId: abc\nfactoryId: def\n",
        "images/a.yaml": "name: a\nos: [Linux\n",
    }
    with pytest.raises(ConfigInvalid) as caught:
        load_files(files)
    text = str(caught.value)
    assert "factory.yaml:2: the key 'factoryId' appears twice" in text
    assert "images/a.yaml:3: not valid YAML" in text


def test_missing_factory_file_and_missing_fields() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_files({"images/a.yaml": "name: a\n"})
    text = str(caught.value)
    assert "factory.yaml: is missing" in text
    assert "images/a.yaml:1: os: is required but missing." in text
    assert "images/a.yaml:1: base: is required but missing." in text


def test_layered_image_must_share_its_parents_os() -> None:
    files = {
        "factory.yaml": (
            "factoryId: fab\nfactoryLab: /subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c"
            "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/lab\n"
        ),
        "images/p.yaml": "name: p\nos: Linux\nbase:\n  gallery: {publisher: a, offer: b, sku: c}\n",
        "images/c.yaml": "name: c\nos: Windows\nbase:\n  image: p\n",
    }
    with pytest.raises(ConfigInvalid) as caught:
        load_files(files)
    assert "images/c.yaml:4: base.image: 'c' is Windows but its base 'p' is Linux" in str(
        caught.value
    )


def test_base_needs_exactly_one_kind() -> None:
    files = {
        "factory.yaml": (
            "factoryId: fab\nfactoryLab: /subscriptions/6f1c2a3b-0d4e-4f5a-9b8c-1d2e3f4a5b6c"
            "/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/lab\n"
        ),
        "images/p.yaml": (
            "name: p\nos: Linux\nbase:\n  gallery: {publisher: a, offer: b, sku: c}\n  image: q\n"
        ),
    }
    with pytest.raises(ConfigInvalid) as caught:
        load_files(files)
    assert "images/p.yaml:3: base: set exactly one of 'gallery'" in str(caught.value)
