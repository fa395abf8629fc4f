"""Hostile and unlucky configuration files: every one is a problem with file:line, never a
traceback, a hang, or a file read from outside the configuration."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shared.cli.main import EXIT_INVALID, EXIT_OK, main
from shared.config.loading import ConfigInvalid, load_directory, load_files
from shared.git.config_source import load_config
from shared.run.request import ConfigSourceRef

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"
SECRET = "outside-the-configuration-7f3a"


def _example_files() -> dict[str, str]:
    return {
        p.relative_to(EXAMPLE).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(EXAMPLE.rglob("*.yaml"))
    }


def _problems(files: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        load_files(files)
    return [str(p) for p in caught.value.problems]


BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)

# (text appended to images/win2022-base.yaml, the problem's line within it, its message)
HOSTILE = [
    ("? [1, 2]\n: x\n", 1, "a key is a list; expected keys that are plain text"),
    ("{a: 1}: x\n", 1, "a key is a mapping"),
    ("x: !!python/object/apply:os.system ['id']\n", 1, "the tag !!python/object/apply:os.system"),
    ("x: !!python/name:os.system\n", 1, "the tag !!python/name:os.system is not allowed"),
    ("x: !vault secret\n", 1, "the tag !vault is not allowed"),
    ("x: !!binary aGVsbG8=\n", 1, "the tag !!binary is not allowed"),
    ("x: !!set {a, b}\n", 1, "the tag !!set is not allowed"),
    ("d: &d {vmSize: X}\ne:\n  <<: *d\n", 3, "merge keys (<<) are not supported"),
    ("x: " + "9" * 5000 + "\n", 1, "a number of 5000 digits; expected at most 100"),
    ("x: &x [*x]\n", 1, "contains an alias to itself"),
    ("x: &x {y: *x}\n", 1, "contains an alias to itself"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nest deeper than 32 levels"),
    ("".join("  " * i + "x:\n" for i in range(40)), 33, "nest deeper than 32 levels"),
    ("x: a\x01b\n", 1, "holds the character U+0001"),
    ("x: \x1b[31mred\n", 1, "holds the character U+001B"),
    ("x: a\x00\n", 1, "holds a NUL character"),
    (BILLION_LAUGHS, 1, "expands to more than 100000 values through its aliases"),
    ("x: 2026-02-30\n", 1, "'2026-02-30' is not a valid timestamp"),
]


@pytest.mark.parametrize(
    ("tail", "line", "message"), HOSTILE, ids=[f"{i}" for i in range(len(HOSTILE))]
)
def test_hostile_yaml_is_one_sentence_with_file_and_line(
    tail: str, line: int, message: str
) -> None:
    files = _example_files()
    line += files["images/win2022-base.yaml"].count("\n")
    files["images/win2022-base.yaml"] += tail
    started = time.monotonic()
    problems = _problems(files)
    assert time.monotonic() - started < 5
    mine = [p for p in problems if p.startswith("images/win2022-base.yaml:")]
    assert mine == [mine[0]] and mine[0].startswith(f"images/win2022-base.yaml:{line}: "), problems
    assert message in mine[0] and "\n" not in mine[0] and mine[0].endswith(".")


def test_aliases_that_stay_small_still_work() -> None:
    files = _example_files()
    files["images/win2022-base.yaml"] = files["images/win2022-base.yaml"].replace(
        "tags:", "x-shared: &owner platform-team\ntags:", 1
    )
    assert "owner: platform-team" in files["images/win2022-base.yaml"]
    problems = _problems(files)  # the unknown key, and only it
    assert len(problems) == 1 and "unknown key 'x-shared'" in problems[0], problems


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    path = root / "labs" / "dev-weu.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\n# caf\xe9\n", 2))
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    assert [str(p) for p in caught.value.problems] == [
        "labs/dev-weu.yaml:2: is not UTF-8 text (byte 0xe9); save it as UTF-8."
    ]


def test_symbolic_links_out_of_the_configuration_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(f"name: {SECRET}\n")
    (outside / "labs").mkdir()
    (outside / "labs" / "x.yaml").write_text(f"lab: {SECRET}\n")
    root = tmp_path / "config"
    shutil.copytree(EXAMPLE, root)
    (root / "images" / "evil.yaml").symlink_to(outside / "secret.yaml")
    (root / "images" / "relative.yaml").symlink_to(Path("..", "..", "outside", "secret.yaml"))
    (root / "images" / "loop.yaml").symlink_to(root / "images" / "loop.yaml")
    shutil.rmtree(root / "labs")
    (root / "labs").symlink_to(outside / "labs", target_is_directory=True)
    # A link that stays inside the folder is an ordinary file.
    (root / "images" / "alias.yml").symlink_to(Path("win2022-base.yaml"))
    with pytest.raises(ConfigInvalid) as caught:
        load_directory(root)
    text = str(caught.value)
    assert SECRET not in text
    for name in ("images/evil.yaml", "images/relative.yaml", "labs/x.yaml"):
        assert f"{name}: is a symbolic link out of the configuration folder" in text
    assert "images/loop.yaml: cannot be read" in text
    # The inside link was read: its name clashes with the file it points to.
    assert "images/win2022-base.yaml:1: name: image name 'win2022-base' is already" in text


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def test_git_sources_never_follow_symbolic_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"name: {SECRET}\n")
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE, work)
    _git(work, "init", "-q", "-b", "main")
    (work / "images" / "evil.yaml").symlink_to(outside)
    (work / "images" / "inside.yaml").symlink_to(Path("win2022-base.yaml"))
    (work / "labs" / "bad.yaml").write_bytes(b"lab: x\n# \xff\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "links")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(ConfigSourceRef(kind="git", location=str(work)))
    text = str(caught.value)
    assert SECRET not in text
    assert "images/evil.yaml: is a symbolic link; expected a regular file" in text
    assert "images/inside.yaml: is a symbolic link; expected a regular file" in text
    assert "labs/bad.yaml:2: is not UTF-8 text (byte 0xff)" in text


# The fuzz test: mutated configurations through `imagefactory validate`. -------------------

TOKENS = [
    "&a ", "*a", "*b", "&b [*a, *a, *a]", "!!python/object:os.system ", "!x ", "!!binary ",
    "!!set ", "<<: *a\n", "? [1]\n: 1\n", "? {a: 1}\n", "[", "]", "{", "}", ": ", "- ", "\n  ",
    "\n", "\t", "\x00", "\x01", "\x1b", "\x7f", "\u2028", "9" * 5000, "1e999", "-.inf", ".nan",
    "'", '"', "#", "---\n", "...\n", "%YAML 1.1\n", "|\n", ">-\n", "~", "null", "yes", "0x1F",
    "2026-13-45", "1:20:30", "1_000", "@", "`", "%", "\ufeff", "[" * 200, "{a: " * 50,
    "keep: 1000000000\n", "maxAgeDays: 99999999999\n", "buildVmTtlHours: 10000000\n",
]  # fmt: skip
TOKEN_BYTES = [t.encode() for t in TOKENS] + [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\r"]
TOKEN_BYTES += [b"-1", b"0", b"10000000000000000000000", b"1.5", b"[]", b"{}", b"''", b"*x"]

mutation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.sampled_from(TOKEN_BYTES)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.text(max_size=12).map(str.encode)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 40)),
    st.tuples(st.just("repeat"), st.integers(0, 10_000), st.integers(1, 30)),
    st.tuples(st.just("value"), st.integers(0, 10_000), st.sampled_from(TOKEN_BYTES)),
)


def _mutate(data: bytes, kind: str, at: int, arg: bytes | int) -> bytes:
    at = at % (len(data) + 1)
    if kind == "insert":
        assert isinstance(arg, bytes)
        return data[:at] + arg + data[at:]
    if kind == "value":  # the value of the line's key becomes the token
        assert isinstance(arg, bytes)
        lines = data.split(b"\n")
        index = at % len(lines)
        key, colon, _ = lines[index].partition(b": ")
        lines[index] = key + (colon or b": ") + arg
        return b"\n".join(lines)
    assert isinstance(arg, int)
    if kind == "delete":
        return data[:at] + data[at + arg :]
    return data[:at] + data[at : at + arg] * 3 + data[at:]


PROBLEM_LINE = re.compile(r"^(factory\.yaml|images/[^:/]+\.yaml|labs/[^:/]+\.yaml):\d+: \S")
SUMMARY_LINE = re.compile(r"^\d+ problem\(s\) found\.$")
FILES = sorted(_example_files())


@hsettings(
    max_examples=150,
    deadline=None,  # the test bounds each example itself, with room for a loaded machine
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.sampled_from(FILES), mutation), min_size=1, max_size=4),
)
def test_mutated_configurations_are_valid_or_problems_with_file_and_line(
    changes: list[tuple[str, tuple[str, int, bytes | int]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "config"
        shutil.copytree(EXAMPLE, root)
        for name, (kind, at, arg) in changes:
            path = root / name
            path.write_bytes(_mutate(path.read_bytes(), kind, at, arg))
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(root)])
        assert time.monotonic() - started < 5
    assert code in (EXIT_OK, EXIT_INVALID)
    lines = err.getvalue().splitlines()
    if code == EXIT_OK:
        assert not lines and "valid" in out.getvalue()
        return
    assert lines and SUMMARY_LINE.match(lines[-1]), lines
    for line in lines[:-1]:
        assert PROBLEM_LINE.match(line), line
        assert "Traceback" not in line and line.endswith(".")
