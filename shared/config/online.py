"""Checks of a valid configuration against what the factory lab offers (`validate --online`):
every artifact and its parameters exist in the lab's artifact sources, every gallery base
is one of the lab's allowed Marketplace images. Pure: the adapter reads the lab into a
`LabOffer`; each problem names the file, line and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config.messages import Problem, at, did_you_mean
from shared.config.models import Artifact, Factory, ImageDefinition
from shared.config.yaml_lines import LoadedYaml, parse_yaml


@dataclass(frozen=True)
class ArtifactOffer:
    """An artifact of a source: its parameters, and those that must be given (no default,
    empty not allowed)."""

    name: str
    parameters: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LabOffer:
    """What a lab offers its VMs. DevTest Labs' names are case-insensitive."""

    lab: str
    sources: Mapping[str, Mapping[str, ArtifactOffer]] = field(default_factory=dict)
    gallery: frozenset[tuple[str, str, str]] = frozenset()  # (publisher, offer, sku), lowered

    def source(self, name: str) -> Mapping[str, ArtifactOffer] | None:
        return next(
            (arts for key, arts in self.sources.items() if key.lower() == name.lower()), None
        )


def check_online(factory: Factory, files: Mapping[str, str], offer: LabOffer) -> list[Problem]:
    """Every problem of the configuration's images against the factory lab's offer."""
    problems: list[Problem] = []
    for name, image in sorted(factory.images.items()):
        path = factory.image_files.get(name)
        if path is None or path not in files:
            continue
        document = parse_yaml(files[path])
        for key, artifacts in (
            ("artifacts", image.artifacts),
            ("testArtifacts", image.test_artifacts),
        ):
            for i, artifact in enumerate(artifacts):
                problems += _artifact(path, document, (key, i), artifact, offer)
        problems += _gallery(path, document, image, offer)
    return sorted(problems)


def _artifact(
    path: str, document: LoadedYaml, loc: tuple[str, int], artifact: Artifact, offer: LabOffer
) -> list[Problem]:
    source = offer.source(artifact.source)
    if source is None:
        known = sorted(offer.sources)
        return [
            at(
                path,
                document,
                (*loc, "source"),
                f"the factory lab has no artifact source '{artifact.source}'"
                f"{did_you_mean(artifact.source, known)}; expected one of: "
                f"{', '.join(known) or 'none'}",
            )
        ]
    found = next((a for n, a in source.items() if n.lower() == artifact.name.lower()), None)
    if found is None:
        return [
            at(
                path,
                document,
                (*loc, "name"),
                f"the artifact source '{artifact.source}' has no artifact '{artifact.name}'"
                f"{did_you_mean(artifact.name, source)}",
            )
        ]
    problems: list[Problem] = []
    given = {p.lower() for p in artifact.parameters}
    declared = {p.lower(): p for p in found.parameters}
    for parameter in artifact.parameters:
        if parameter.lower() not in declared:
            problems.append(
                at(
                    path,
                    document,
                    (*loc, "parameters", parameter),
                    f"the artifact '{found.name}' has no parameter '{parameter}'"
                    f"{did_you_mean(parameter, found.parameters)}; expected one of: "
                    f"{', '.join(sorted(found.parameters)) or 'none'}",
                )
            )
    missing = sorted(p for p in found.required if p.lower() not in given)
    if missing:
        problems.append(
            at(
                path,
                document,
                (*loc, "parameters") if artifact.parameters else loc,
                f"the artifact '{found.name}' needs the parameter(s) {', '.join(missing)}",
            )
        )
    return problems


def _gallery(
    path: str, document: LoadedYaml, image: ImageDefinition, offer: LabOffer
) -> list[Problem]:
    gallery = image.base.gallery
    if gallery is None:
        return []
    wanted = (gallery.publisher.lower(), gallery.offer.lower(), gallery.sku.lower())
    if wanted in offer.gallery:
        return []
    listed = [f"{p}/{o}/{s}" for p, o, s in sorted(offer.gallery)]
    text = f"{gallery.publisher}/{gallery.offer}/{gallery.sku}"
    return [
        at(
            path,
            document,
            ("base", "gallery"),
            f"'{text}' is not among the factory lab's allowed gallery images"
            f"{did_you_mean(text.lower(), listed)}; expected one of: {', '.join(listed) or 'none'}",
        )
    ]
