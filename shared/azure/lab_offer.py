"""What a lab offers its VMs, read for `imagefactory validate --online`: the artifacts (and
their parameters) of each artifact source, and the Marketplace images the lab allows (its
gallery images, narrowed by its GalleryImage policy when that is enabled)."""

from __future__ import annotations

import json
from typing import Any

from shared.azure.labs import Lab
from shared.config.online import ArtifactOffer, LabOffer

GALLERY_IMAGE = "GalleryImage"  # the DevTest Labs policy fact behind the allowed images


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
        gallery.add(_key(ref.publisher, ref.offer, ref.sku))
    allowed = _allowed_gallery_images(lab)
    if allowed is not None:
        gallery &= allowed
    return LabOffer(lab=lab_id, sources=sources, gallery=frozenset(gallery))


def _key(publisher: object, offer: object, sku: object) -> tuple[str, str, str]:
    return (str(publisher).lower(), str(offer).lower(), str(sku).lower())


def _allowed_gallery_images(lab: Lab) -> set[tuple[str, str, str]] | None:
    """The images the lab's enabled GalleryImage policy allows; None: no such policy. Its
    threshold is a JSON array of JSON-encoded image references."""
    for policy in lab.client.policies.list(lab.group, lab.name, "default"):
        if str(policy.fact_name or "").lower() != GALLERY_IMAGE.lower():
            continue
        if str(policy.status or "").lower() != "enabled":
            return None
        try:
            values = json.loads(policy.threshold or "[]")
        except ValueError:
            return None  # a threshold DevTest Labs would not accept: nothing to check against
        allowed = set()
        for value in values if isinstance(values, list) else []:
            try:
                ref = json.loads(value) if isinstance(value, str) else value
            except ValueError:
                continue
            if isinstance(ref, dict):
                allowed.add(_key(ref.get("publisher"), ref.get("offer"), ref.get("sku")))
        return allowed
    return None


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
