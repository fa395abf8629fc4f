"""The operator docs stay true to the code: links resolve, every failure step the
orchestrators report is explained, every secret setting has its Key Vault name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "infra" / "README.md", ROOT / "README.md"]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_the_docs_the_issue_asks_for_exist_and_are_linked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploying and operating", 1)[1]
    for name in ("deploy", "add-a-lab", "secrets", "run-report", "troubleshooting", "migrate"):
        assert (ROOT / "docs" / f"{name}.md").is_file()
        assert f"(docs/{name}.md)" in section


def _failure_steps() -> set[str]:
    steps: set[str] = set()
    for name in ("build_image.py", "distribute_image.py"):
        source = (ROOT / "orchestrations" / name).read_text(encoding="utf-8")
        steps |= set(re.findall(r'_failed\(job, "([^"]+)"', source))
        steps |= set(re.findall(r'(?:result|failed)\("([^"]+)"', source))
        steps |= set(re.findall(r'update=\{"step": "([^"]+)"', source))
        if 'step = f"create {role} VM"' in source:  # _provision(role="build" | "test")
            roles = {"build", *re.findall(r'role="(\w+)"', source)}
            steps |= {f"create {role} VM" for role in roles}
    return steps


def test_every_failure_step_is_explained() -> None:
    steps = _failure_steps()
    assert {"create build VM", "apply artifacts", "capture disk", "copy VHD"} <= steps
    report = (ROOT / "docs" / "run-report.md").read_text(encoding="utf-8")
    troubleshooting = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    for step in steps - {"create test VM"}:  # the test VM's failures are reported as test gate
        assert f"`{step}`" in report, step
        assert f"`{step}`" in troubleshooting, step


def test_every_secret_setting_has_its_key_vault_name_in_the_docs() -> None:
    secrets_doc = (ROOT / "docs" / "secrets.md").read_text(encoding="utf-8")
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        if "(secret)" not in (field.description or ""):
            continue
        setting = "IMAGEFACTORY_" + name.upper()
        vault_name = setting.lower().replace("_", "-")
        for doc in (secrets_doc, deploy_doc):
            assert f"`{setting}`" in doc and f"`{vault_name}`" in doc, setting
