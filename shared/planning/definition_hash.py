"""What a definition builds: effective artifacts, the resolved base and the definition hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.config.models import Artifact, ImageDefinition, OsType

GENERALIZE_ARTIFACT = {OsType.WINDOWS: "windows-sysprep", OsType.LINUX: "linux-deprovision"}


def effective_artifacts(image: ImageDefinition) -> list[Artifact]:
    """The artifacts in order, with the generalize artifact last when `generalize` is on."""
    artifacts = list(image.artifacts)
    if image.generalize:
        artifacts.append(Artifact(name=GENERALIZE_ARTIFACT[image.os]))
    return artifacts


def resolved_base(
    image: ImageDefinition, gallery_versions: dict[str, str], parent_version: str | None
) -> str:
    """The base as built: a gallery image with `latest` resolved, or `<parent>@<version>`."""
    base = image.base
    if base.gallery is not None:
        version = base.gallery.version
        if version.lower() == "latest":
            version = gallery_versions.get(base.gallery.key, "latest")
        return f"{base.gallery.key}@{version}"
    return f"{base.image}@{parent_version or 'unbuilt'}"


def definition_hash(image: ImageDefinition, base: str) -> str:
    """sha256 over the canonical definition, the resolved base and artifact parameters.

    Only what changes the built bytes counts: description, retention, rebuild policy,
    tags and the test gate do not.
    """
    canonical: dict[str, Any] = {
        "os": image.os.value,
        "base": base,
        "vmSize": image.vm_size,
        "artifacts": [
            {"source": a.source, "name": a.name, "parameters": a.parameters}
            for a in effective_artifacts(image)
        ],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
