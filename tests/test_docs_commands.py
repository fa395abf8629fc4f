"""The documentation names only commands that exist: every `imagefactory <command>` in the
README, the docs, the examples, the pipelines and the workflows is a command of the CLI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from shared.cli.parsing import build_parser

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "node_modules", ".git", ".local"}
# `imagefactory` as a word (not `rg-imagefactory`, not `imagefactory-retirements`), then
# the command, on the same line or wrapped onto the next.
MENTION = re.compile(r"(?<![\w/.-])imagefactory(?:[ \t]+|[ \t]*\n[ \t]*)([a-z][a-z-]*)")


def _documents() -> list[Path]:
    found = []
    for pattern in ("*.md", "*.yml", "*.yaml"):
        found += [p for p in ROOT.rglob(pattern) if not SKIP & set(p.relative_to(ROOT).parts)]
    return sorted(found)


def _commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def mentions(text: str) -> list[tuple[int, str]]:
    """(line, command) of every `imagefactory <command>` in the text."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in MENTION.finditer(text)]


def test_every_documented_command_exists() -> None:
    commands = _commands()
    missing = [
        f"{path.relative_to(ROOT)}:{line}: imagefactory {word}"
        for path in _documents()
        for line, word in mentions(path.read_text(encoding="utf-8", errors="replace"))
        if word not in commands
    ]
    assert not missing, "documented commands that do not exist:\n" + "\n".join(missing)


def test_the_check_sees_a_command_wrapped_onto_the_next_line() -> None:
    text = "see `imagefactory\nlocal-run` and imagefactory validate, not rg-imagefactory here"
    assert mentions(text) == [(1, "local-run"), (2, "validate")]
    assert "local-run" not in _commands()
