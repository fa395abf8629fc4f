"""Open a local HTML file in Debian's headless chromium through `page.mjs` (playwright-core).

`open_page(path, select=[...], screenshot=...)` runs the Node script and returns what it saw
as a `PageReport`. Chromium and playwright-core are installed by `make browser` (a
dependency of `make test`; `CHROMIUM` in the environment names another Chromium); without
them this fails with one sentence saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("page.mjs")
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")  # page.mjs reads it too
PLAYWRIGHT = ROOT / "node_modules" / "playwright-core"
PHONE_WIDTH = 390


class Widths(BaseModel):
    """The layout viewport's width and the document's: more than the viewport scrolls sideways."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel)

    inner_width: int
    scroll_width: int


class PhoneWidths(Widths):
    overflowing: bool


class Element(BaseModel):
    """One element a selector matched: its rendered text and its data-* attributes."""

    model_config = ConfigDict(extra="forbid")

    text: str
    data: dict[str, str]


class PageReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    requests: list[str]
    errors: list[str]
    desktop: Widths
    phone: PhoneWidths
    selected: dict[str, list[Element]]


def open_page(
    path: Path,
    *,
    select: list[str] | None = None,
    screenshot: Path | None = None,
    phone_screenshot: Path | None = None,
) -> PageReport:
    """Load `path` over file:// at desktop and phone size and report what the browser saw."""
    node = shutil.which("node")
    missing = [
        what
        for what, present in (
            ("node", node is not None),
            (str(CHROMIUM), CHROMIUM.exists()),
            ("node_modules/playwright-core", PLAYWRIGHT.exists()),
        )
        if not present
    ]
    if missing or node is None:
        raise RuntimeError(f"the browser tests need {', '.join(missing)}: run `make browser`")
    command = [node, str(SCRIPT), "--file", str(path)]
    for selector in select or []:
        command += ["--select", selector]
    for flag, target in (("--screenshot", screenshot), ("--phone-screenshot", phone_screenshot)):
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            command += [flag, str(target)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"page.mjs exited {done.returncode}: {done.stderr.strip()}")
    return PageReport.model_validate(json.loads(done.stdout))
