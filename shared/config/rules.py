"""Rules across files: unique names, layering without cycles, labs naming images that exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.config.messages import Problem, at, did_you_mean
from shared.config.models import OsType
from shared.config.yaml_lines import LoadedYaml
from shared.model import naming
from shared.planning.selection import select_images

# The rules read the raw documents leniently, so that one file's type error does
# not hide (or fake) a problem elsewhere: every problem is reported in one pass.


@dataclass(frozen=True)
class ImageFacts:
    path: str
    doc: LoadedYaml
    name: str | None
    os: str | None
    parent: str | None
    prefix: str | None

    @classmethod
    def of(cls, path: str, doc: LoadedYaml) -> ImageFacts:
        base = doc.data.get("base")
        parent = base.get("image") if isinstance(base, dict) else None
        return cls(
            path,
            doc,
            _text(doc.data.get("name")),
            _text(doc.data.get("os")),
            _text(parent),
            _text(doc.data.get("buildVmPrefix")),
        )


@dataclass(frozen=True)
class LabFacts:
    path: str
    doc: LoadedYaml
    lab: str | None
    patterns: list[str] | None
    pinned: dict[str, Any]

    @classmethod
    def of(cls, path: str, doc: LoadedYaml) -> LabFacts:
        patterns = doc.data.get("images")
        pinned = doc.data.get("pinned")
        return cls(
            path,
            doc,
            _text(doc.data.get("lab")),
            [p for p in patterns if isinstance(p, str)] if isinstance(patterns, list) else None,
            pinned if isinstance(pinned, dict) else {},
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def check_images(facts: list[ImageFacts]) -> list[Problem]:
    problems: list[Problem] = []
    by_name: dict[str, ImageFacts] = {}
    for fact in sorted(facts, key=lambda f: f.path):
        if fact.name is None:
            continue
        first = by_name.setdefault(fact.name, fact)
        if first is not fact:
            problems.append(
                at(
                    fact.path,
                    fact.doc,
                    ("name",),
                    f"image name '{fact.name}' is already "
                    f"defined in {first.path}:{first.doc.line_of(('name',))}; expected "
                    "unique names",
                )
            )
    for fact in facts:
        if fact.prefix is not None and fact.os in _OS_NAMES:
            limit = naming.VM_NAME_LIMIT[OsType(fact.os)]
            over = naming.vm_name_overflow(fact.prefix, OsType(fact.os))
            if over > 0:
                problems.append(
                    at(
                        fact.path,
                        fact.doc,
                        ("buildVmPrefix",),
                        f"build VM names "
                        f"'{fact.prefix}-xxxxxx' would be {over} character(s) over DevTest "
                        f"Labs' {limit}-character limit for {fact.os} VMs; expected a prefix "
                        f"of at most {limit - naming.VM_SUFFIX_LENGTH} characters",
                    )
                )
        if fact.parent is None:
            continue
        parent = by_name.get(fact.parent)
        if parent is None:
            problems.append(
                at(
                    fact.path,
                    fact.doc,
                    ("base", "image"),
                    f"base image '{fact.parent}' is "
                    f"not an image definition{did_you_mean(fact.parent, by_name)}; expected "
                    f"the name of one of: {', '.join(sorted(by_name))}",
                )
            )
        elif parent.os in _OS_NAMES and fact.os in _OS_NAMES and parent.os != fact.os:
            problems.append(
                at(
                    fact.path,
                    fact.doc,
                    ("base", "image"),
                    f"'{fact.name}' is {fact.os} but "
                    f"its base '{fact.parent}' is {parent.os}; expected the same OS",
                )
            )
    problems += _check_cycles(by_name)
    return problems


_OS_NAMES = {o.value for o in OsType}


def _check_cycles(by_name: dict[str, ImageFacts]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for start in sorted(by_name):
        chain = [start]
        current = by_name[start].parent
        while current is not None and current in by_name and current not in chain:
            chain.append(current)
            current = by_name[current].parent
        if current is None or current not in chain:
            continue
        cycle = chain[chain.index(current) :]
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first = min(cycle)
        ordered = cycle[cycle.index(first) :] + cycle[: cycle.index(first)]
        fact = by_name[first]
        problems.append(
            at(
                fact.path,
                fact.doc,
                ("base", "image"),
                "layering cycle "
                f"{' -> '.join([*ordered, first])}; expected every chain of bases to end "
                "at a gallery image",
            )
        )
    return problems


def is_glob(pattern: str) -> bool:
    """Whether a lab's image entry is a glob (`*`, `?`, `[...]`) rather than an exact name."""
    return any(c in pattern for c in "*?[")


def check_labs(labs: list[LabFacts], images: list[ImageFacts]) -> list[Problem]:
    """The errors of the labs' files (see `lab_warnings` for what only deserves a look)."""
    return _labs(labs, images)[0]


def lab_warnings(labs: list[LabFacts], images: list[ImageFacts]) -> list[Problem]:
    """What is allowed but likely a mistake: a glob that matches no image definition, in a
    lab that selects other images (a lab that selects nothing at all is an error)."""
    return _labs(labs, images)[1]


def _labs(labs: list[LabFacts], images: list[ImageFacts]) -> tuple[list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    names = {f.name for f in images if f.name is not None}
    seen: dict[str, str] = {}
    for fact in sorted(labs, key=lambda f: f.path):
        if fact.lab is not None:
            first = seen.setdefault(fact.lab.lower(), fact.path)
            if first != fact.path:
                problems.append(
                    at(
                        fact.path,
                        fact.doc,
                        ("lab",),
                        f"this lab is already a target in {first}; expected one file per lab",
                    )
                )
        if fact.patterns is None:
            continue
        selected = select_images(fact.patterns, names)
        unknown = _unknown_names(fact, names)
        problems += unknown
        for i, pattern in _patterns(fact):
            if is_glob(pattern) and selected and not select_images([pattern], names):
                warnings.append(
                    at(
                        fact.path,
                        fact.doc,
                        ("images", i),
                        f"the glob '{pattern}' matches no image definition; this lab selects "
                        f"only {', '.join(selected)}",
                    )
                )
        if fact.patterns and not selected and not unknown:
            problems.append(
                at(
                    fact.path,
                    fact.doc,
                    ("images",),
                    "selects no image: none of "
                    f"{', '.join(repr(p) for p in fact.patterns)} matches an image definition; "
                    f"expected names or globs of: {', '.join(sorted(names)) or 'none defined'}",
                )
            )
        for family in fact.pinned:
            if family not in selected:
                problems.append(
                    at(
                        fact.path,
                        fact.doc,
                        ("pinned", family),
                        f"pins versions of "
                        f"'{family}', which this lab does not select; expected a family "
                        "listed under 'images'",
                    )
                )
            versions = fact.pinned[family]
            for i, version in enumerate(versions if isinstance(versions, list) else []):
                if isinstance(version, str) and not naming.is_version(version):
                    problems.append(
                        at(
                            fact.path,
                            fact.doc,
                            ("pinned", family, i),
                            f"'{version}' is not "
                            "a version; expected the form 20261124120000-ab12cd34",
                        )
                    )
    return problems, warnings


def _patterns(fact: LabFacts) -> list[tuple[int, str]]:
    """The lab's image entries that are text, with their index in the file's list."""
    entries = fact.doc.data.get("images")
    if not isinstance(entries, list):
        return []
    return [(i, p) for i, p in enumerate(entries) if isinstance(p, str)]


def _unknown_names(fact: LabFacts, names: set[str]) -> list[Problem]:
    """An exact name (no glob) that is no image definition is a typo until proven otherwise."""
    return [
        at(
            fact.path,
            fact.doc,
            ("images", i),
            f"'{pattern}' is not an image definition{did_you_mean(pattern, names)}; expected "
            f"the name (or a glob) of one of: {', '.join(sorted(names)) or 'none defined'}",
        )
        for i, pattern in _patterns(fact)
        if not is_glob(pattern) and pattern not in names
    ]
