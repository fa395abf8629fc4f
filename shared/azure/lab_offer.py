"""What a lab offers its VMs, read for `imagefactory validate --online`: the artifacts (and
their parameters) of each artifact source, and the Marketplace images the lab allows."""

from __future__ import annotations

from typing import Any

from shared.azure.labs import Lab
from shared.config.online import ArtifactOffer, LabOffer


def lab_offer(lab_id: str) -> LabOffer:
    """One read of the lab's artifact sources, their artifacts and its gallery images."""
    lab = Lab.of(lab_id)
    client = lab.client
    sources: dict[str, dict[str, ArtifactOffer]] = {}
    for source in client.artifact_sources.list(lab.group, lab.name):
        name = str(source.name)
        sources[name] = {
            str(artifact.name): _artifact(str(artifact.name), artifact.parameters)
            for artifact in client.artifacts.list(lab.group, lab.name, name)
        }
    gallery: set[tuple[str, str, str]] = set()
    for image in client.gallery_images.list(lab.group, lab.name):
        ref = image.image_reference
        if image.enabled is False or ref is None:
            continue
        gallery.add((str(ref.publisher).lower(), str(ref.offer).lower(), str(ref.sku).lower()))
    return LabOffer(lab=lab_id, sources=sources, gallery=frozenset(gallery))


def _artifact(name: str, parameters: Any) -> ArtifactOffer:
    """An artifact's parameters as its artifact file declares them: one without a default
    value that may not be empty must be given."""
    declared = parameters if isinstance(parameters, dict) else {}
    required = {
        p
        for p, spec in declared.items()
        if isinstance(spec, dict) and "defaultValue" not in spec and spec.get("allowEmpty") is False
    }
    return ArtifactOffer(name, frozenset(declared), frozenset(required))
