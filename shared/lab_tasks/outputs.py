"""CI output variables: GitHub Actions, Azure Pipelines, JSON or a table for people.

- `github`: `name=value` lines appended to the file `$GITHUB_OUTPUT` names (a value with a
  line break uses the heredoc form); a secret is first masked with `::add-mask::`.
- `azure-pipelines`: `##vso[task.setvariable variable=NAME]VALUE` for later steps of the
  job (as the extension sets them) and the same with `isOutput=true` for later jobs;
  secrets carry `issecret=true`.
- Both also set `outputs`: every value that is not secret, as one JSON object.
- `json`: one JSON object on stdout (the default when stdout is not a terminal).
- `text`: a table (the default on a terminal).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shared.lab_tasks.errors import LabUsageError

FORMATS = ("github", "azure-pipelines", "json", "text")


def _vso(text: str) -> str:
    """Logging-command data as azure-pipelines-task-lib escapes it (taskcommand.ts)."""
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def write_outputs(
    values: Mapping[str, Any], secret: set[str], fmt: str | None, out: Console
) -> None:
    chosen = fmt or ("text" if out.is_terminal else "json")
    if chosen in ("github", "azure-pipelines"):
        combined = {k: v for k, v in values.items() if k not in secret}
        values = {**values, "outputs": json.dumps(combined, separators=(",", ":"))}
    if chosen == "github":
        _github(values, secret)
    elif chosen == "azure-pipelines":
        for name, value in values.items():
            flags = ";issecret=true" if name in secret else ""
            variable = _vso(name).replace("]", "%5D").replace(";", "%3B")
            text = _vso(_text(value))
            sys.stdout.write(f"##vso[task.setvariable variable={variable}{flags}]{text}\n")
            sys.stdout.write(
                f"##vso[task.setvariable variable={variable};isOutput=true{flags}]{text}\n"
            )
    elif chosen == "json":
        shown = {k: ("***" if k in secret else v) for k, v in values.items()}
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
    else:
        table = Table(show_header=False, box=None)
        for name, value in values.items():
            table.add_row(name, "***" if name in secret else _text(value))
        out.print(table)
    sys.stdout.flush()


def _github(values: Mapping[str, Any], secret: set[str]) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        raise LabUsageError("--output github needs GITHUB_OUTPUT (set by GitHub Actions)")
    lines: list[str] = []
    for name, value in values.items():
        text = _text(value)
        if name in secret:
            for line in text.splitlines() or [text]:
                escaped = line.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
                sys.stdout.write(f"::add-mask::{escaped}\n")
        if "\n" in text or "\r" in text:
            delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
            lines.append(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
        else:
            lines.append(f"{name}={text}\n")
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.writelines(lines)
