"""Convert Microsoft's PowerShell image factory layout into this factory's configuration.

Input: `Configuration/GoldenImages/**/*.json` (ARM templates of one lab VM) and
`Configuration/Labs.json` (`Labs[]` with `SubscriptionId`, `ResourceGroup`, `LabName`,
`ImagePaths`). An ImagePath names a file or a whole folder under GoldenImages; a folder
becomes the exact list of the images under it, never a string prefix.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml import YAML

from shared.config.models import OsType
from shared.model.arm_ids import lab_id
from shared.planning.definition_hash import GENERALIZE_ARTIFACT

_VM_TYPE = "microsoft.devtestlab/labs/virtualmachines"
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_FAMILY_LIMIT = 40


@dataclass
class ImportReport:
    images: int = 0
    labs: int = 0
    written: list[str] = field(default_factory=list)
    unconverted: list[str] = field(default_factory=list)


@dataclass
class _Image:
    family: str
    source: str  # path relative to GoldenImages, POSIX, with .json
    document: dict[str, Any]


def import_legacy(root: Path, out: Path, factory_lab: str | None = None) -> ImportReport:
    config = root / "Configuration" if (root / "Configuration").is_dir() else root
    golden = config / "GoldenImages"
    labs_file = config / "Labs.json"
    report = ImportReport()
    if not golden.is_dir():
        raise FileNotFoundError(f"{root} has no Configuration/GoldenImages folder to import")

    images = _convert_images(golden, report)
    labs = _read_json(labs_file, report).get("Labs", []) if labs_file.is_file() else []
    if not labs_file.is_file():
        report.unconverted.append("Configuration/Labs.json is missing: no lab targets written")
    lab_docs = _convert_labs(labs, images, report)

    if factory_lab is None:
        if lab_docs:
            factory_lab = next(iter(lab_docs.values()))["lab"]
            report.unconverted.append(
                "the legacy layout does not name the factory lab; assumed the first lab in "
                f"Labs.json ({factory_lab}); pass --factory-lab to choose another"
            )
        else:
            factory_lab = lab_id("00000000-0000-0000-0000-000000000000", "set-me", "set-me")
            report.unconverted.append(
                "no factory lab could be derived; factory.yaml holds a placeholder lab id"
            )

    out.mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(exist_ok=True)
    (out / "labs").mkdir(exist_ok=True)
    _write(
        out / "factory.yaml",
        {
            "factoryId": "imported-factory",
            "factoryLab": factory_lab,
            "schedule": "0 0 2 * * *",
            "retention": {"keep": 3, "retireRemoved": True},
        },
        report,
        header="# Imported from Microsoft's PowerShell image factory layout.",
    )
    for image in images:
        _write(
            out / "images" / f"{image.family}.yaml",
            image.document,
            report,
            header=f"# Imported from GoldenImages/{image.source}",
        )
        report.images += 1
    for name, document in lab_docs.items():
        _write(out / "labs" / f"{name}.yaml", document, report, header="# Imported from Labs.json")
        report.labs += 1
    return report


def _convert_images(golden: Path, report: ImportReport) -> list[_Image]:
    images: list[_Image] = []
    taken: set[str] = set()
    for path in sorted(golden.rglob("*.json")):
        source = path.relative_to(golden).as_posix()
        template = _read_json(path, report)
        resources = [
            r
            for r in template.get("resources", [])
            if isinstance(r, dict) and str(r.get("type", "")).lower() == _VM_TYPE
        ]
        if len(resources) != 1:
            report.unconverted.append(
                f"GoldenImages/{source}: expected one Microsoft.DevTestLab/labs/virtualmachines "
                f"resource, found {len(resources)}; skipped"
            )
            continue
        properties = resources[0].get("properties", {})
        document = _image_document(source, properties, report)
        if document is None:
            continue
        family = _family_name(source, taken)
        taken.add(family)
        images.append(_Image(family, source, {"name": family, **document}))
    return images


def _image_document(
    source: str, properties: dict[str, Any], report: ImportReport
) -> dict[str, Any] | None:
    where = f"GoldenImages/{source}"
    gallery = properties.get("galleryImageReference")
    if not isinstance(gallery, dict):
        report.unconverted.append(
            f"{where}: no galleryImageReference (custom or formula bases are not imported); skipped"
        )
        return None
    missing = [k for k in ("publisher", "offer", "sku") if not _literal(gallery.get(k))]
    if missing:
        report.unconverted.append(
            f"{where}: galleryImageReference lacks literal {', '.join(missing)}; skipped"
        )
        return None
    os_type = str(gallery.get("osType") or "")
    if os_type.lower() not in ("windows", "linux"):
        os_type = "Windows" if "windows" in str(gallery["publisher"]).lower() else "Linux"
        report.unconverted.append(
            f"{where}: galleryImageReference has no osType; assumed {os_type} from the publisher"
        )
    os_name = "Windows" if os_type.lower() == "windows" else "Linux"
    document: dict[str, Any] = {}
    notes = properties.get("notes")
    if _literal(notes):
        document["description"] = notes
    document["os"] = os_name
    version = gallery.get("version")
    document["base"] = {
        "gallery": {
            "publisher": gallery["publisher"],
            "offer": gallery["offer"],
            "sku": gallery["sku"],
            "version": version if _literal(version) else "latest",
        }
    }
    size = properties.get("size")
    if _literal(size):
        document["vmSize"] = size
    elif size is not None:
        report.unconverted.append(f"{where}: size {size!r} is an expression; the default is used")
    artifacts = []
    generalize_name = GENERALIZE_ARTIFACT[OsType(os_name)]
    for index, artifact in enumerate(properties.get("artifacts") or []):
        converted = _artifact(where, index, artifact, report)
        if converted is not None and converted["name"] != generalize_name:
            artifacts.append(converted)
    if artifacts:
        document["artifacts"] = artifacts
    return document


def _artifact(where: str, index: int, artifact: Any, report: ImportReport) -> dict[str, Any] | None:
    artifact_id = artifact.get("artifactId") if isinstance(artifact, dict) else None
    quoted = [q.replace("''", "'") for q in _QUOTED.findall(str(artifact_id or ""))]
    if not isinstance(artifact_id, str) or len(quoted) < 2:
        report.unconverted.append(
            f"{where}: artifacts[{index}] has no recognisable artifactId "
            f"(expected [resourceId(..., '<source>', '<name>')]); skipped"
        )
        return None
    source, name = quoted[-2], quoted[-1]
    result: dict[str, Any] = {"name": name}
    if source.lower() != "public repo":
        result["source"] = source
    parameters: dict[str, Any] = {}
    for parameter in artifact.get("parameters") or []:
        if not isinstance(parameter, dict) or "name" not in parameter:
            report.unconverted.append(f"{where}: artifacts[{index}] has a malformed parameter")
            continue
        value = parameter.get("value")
        if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
            report.unconverted.append(
                f"{where}: parameter '{parameter['name']}' of artifact '{name}' is an ARM "
                "expression; copied as text, review it"
            )
        if not isinstance(value, str | int | float | bool):
            value = json.dumps(value)
        parameters[str(parameter["name"])] = value
    if parameters:
        result["parameters"] = parameters
    return result


def _convert_labs(
    labs: list[Any], images: list[_Image], report: ImportReport
) -> dict[str, dict[str, Any]]:
    by_source = {image.source.lower(): image.family for image in images}
    documents: dict[str, dict[str, Any]] = {}
    for index, lab in enumerate(labs):
        keys = ("SubscriptionId", "ResourceGroup", "LabName")
        if not isinstance(lab, dict) or not all(_literal(lab.get(k)) for k in keys):
            report.unconverted.append(
                f"Labs.json: Labs[{index}] lacks SubscriptionId, ResourceGroup or LabName; skipped"
            )
            continue
        selected: list[str] = []
        for image_path in lab.get("ImagePaths") or []:
            matches = _resolve_image_path(str(image_path), by_source)
            if not matches:
                report.unconverted.append(
                    f"Labs.json: Labs[{index}] ({lab['LabName']}) ImagePath '{image_path}' names "
                    "no converted image; dropped"
                )
            selected += [m for m in matches if m not in selected]
        if not selected:
            report.unconverted.append(
                f"Labs.json: Labs[{index}] ({lab['LabName']}) selects no converted image; skipped"
            )
            continue
        name = _family_name(str(lab["LabName"]), set(documents))
        documents[name] = {
            "lab": lab_id(str(lab["SubscriptionId"]), str(lab["ResourceGroup"]), lab["LabName"]),
            "images": selected,
        }
    return documents


def _resolve_image_path(image_path: str, by_source: dict[str, str]) -> list[str]:
    """A file names one image; a folder names exactly the images beneath it."""
    cleaned = PurePosixPath(image_path.replace("\\", "/").strip("/")).as_posix().lower()
    if cleaned in ("", "."):
        return sorted(by_source.values())
    for candidate in (cleaned, f"{cleaned}.json"):
        if candidate in by_source:
            return [by_source[candidate]]
    folder = cleaned + "/"
    return sorted(family for source, family in by_source.items() if source.startswith(folder))


def _family_name(source: str, taken: set[str]) -> str:
    stem = source.removesuffix(".json").lower()
    name = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:_FAMILY_LIMIT].strip("-") or "image"
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate = name[: _FAMILY_LIMIT - len(suffix)].strip("-") + suffix
        n += 1
    return candidate


def _literal(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not value.startswith("[")


def _read_json(path: Path, report: ImportReport) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        report.unconverted.append(f"{path.name}: not readable JSON ({exc}); skipped")
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, document: dict[str, Any], report: ImportReport, header: str) -> None:
    path.write_text(f"{header}\n{_dump(document)}", encoding="utf-8")
    report.written.append(path.as_posix())


def _dump(document: dict[str, Any]) -> str:
    """YAML 1.2 text of the document, keys in the order written, as the loader reads it."""
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = False
    writer.allow_unicode = True
    writer.width = 100
    writer.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    text = io.StringIO()
    writer.dump(document, text)
    return text.getvalue()
