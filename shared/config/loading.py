"""Load and validate a configuration repository, reporting every problem in one pass.

Each problem is one sentence naming the file, the line, the field path and what was
expected. The loader works on a mapping of repository paths to text, so a directory,
a Git commit or a test can feed it the same way.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shared.config.models import Factory, FactorySettings, ImageDefinition, LabTarget, Model, OsType
from shared.config.yaml_lines import LoadedYaml, Loc, YamlSyntaxError, parse_yaml
from shared.model import naming

FACTORY_FILE = "factory.yaml"
IMAGES_DIR = "images"
LABS_DIR = "labs"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}."


class ConfigInvalid(Exception):
    """The configuration has problems; `problems` lists every one, sorted by file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


MAX_FILE_BYTES = 1024 * 1024  # a large image definition is a few KiB


def decode(path: str, data: bytes) -> str | Problem:
    """A configuration file's text, or the problem why it has none (not UTF-8, too large)."""
    if len(data) > MAX_FILE_BYTES:
        return Problem(
            path, 0, "", f"is {len(data)} bytes; expected a file of at most {MAX_FILE_BYTES} bytes"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(
            path, line, "", f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        )


def read_directory(root: Path) -> tuple[dict[str, str], list[Problem]]:
    """The configuration files under `root`, by repository path (POSIX separators), and
    the files that cannot be read. A file is read only if it (after every symbolic link)
    lies inside `root`: a link out of the configuration folder is refused."""
    files: dict[str, str] = {}
    problems: list[Problem] = []
    try:
        inside = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return files, [Problem(str(root), 0, "", "cannot be resolved to a directory")]
    candidates = [root / FACTORY_FILE]
    for folder in (IMAGES_DIR, LABS_DIR):
        candidates += [p for p in sorted((root / folder).glob("*")) if p.suffix in YAML_SUFFIXES]
    for path in candidates:
        name = path.relative_to(root).as_posix()
        try:
            target = path.resolve(strict=True)
        except FileNotFoundError:
            if path.is_symlink():
                problems.append(Problem(name, 0, "", "is a symbolic link to nothing"))
            continue
        except (OSError, RuntimeError):  # a loop of links, or no permission
            problems.append(Problem(name, 0, "", "cannot be read (a loop of symbolic links?)"))
            continue
        if not target.is_relative_to(inside):
            problems.append(
                Problem(
                    name,
                    0,
                    "",
                    "is a symbolic link out of the configuration folder; expected a file inside it",
                )
            )
            continue
        if not target.is_file():
            continue
        if target.stat().st_size > MAX_FILE_BYTES:
            size = target.stat().st_size
            problems.append(
                Problem(name, 0, "", f"is {size} bytes; expected at most {MAX_FILE_BYTES} bytes")
            )
            continue
        text = decode(name, target.read_bytes())
        if isinstance(text, Problem):
            problems.append(text)
        else:
            files[name] = text
    return files, problems


def load_directory(root: Path, commit: str | None = None) -> Factory:
    if not root.is_dir():
        raise ConfigInvalid([Problem(str(root), 0, "", "is not a directory")])
    files, unreadable = read_directory(root)
    return load_files(files, commit=commit, unreadable=unreadable)


def load_files(
    files: Mapping[str, str], commit: str | None = None, unreadable: Iterable[Problem] = ()
) -> Factory:
    """Validate the files (repository path -> text) into a Factory, or raise ConfigInvalid.

    `unreadable` are the problems of files the reader could not turn into text; they are
    reported with the rest, and such a file counts as present but invalid."""
    problems: list[Problem] = list(unreadable)
    parsed: dict[str, LoadedYaml] = {}
    for path in sorted(files):
        try:
            document = parse_yaml(files[path])
        except YamlSyntaxError as exc:
            problems.append(Problem(path, exc.line, "", exc.message))
            continue
        if not isinstance(document.data, dict):
            problems.append(Problem(path, 1, "", "expected a mapping of keys to values at the top"))
            continue
        parsed[path] = document

    settings = None
    if FACTORY_FILE not in files and not any(p.file == FACTORY_FILE for p in problems):
        problems.append(
            Problem(FACTORY_FILE, 0, "", "is missing; every configuration needs one at the top")
        )
    elif FACTORY_FILE in parsed:
        settings = _validate(FactorySettings, FACTORY_FILE, parsed[FACTORY_FILE], problems)

    images: dict[str, ImageDefinition] = {}
    image_files: dict[str, str] = {}
    labs: dict[str, LabTarget] = {}
    lab_files: dict[str, str] = {}
    image_facts: list[_ImageFacts] = []
    lab_facts: list[_LabFacts] = []
    for path, document in parsed.items():
        folder = PurePosixPath(path).parent.as_posix()
        if folder == IMAGES_DIR:
            image_facts.append(_ImageFacts.of(path, document))
            image = _validate(ImageDefinition, path, document, problems)
            if image is not None and image.name not in images:
                images[image.name] = image
                image_files[image.name] = path
        elif folder == LABS_DIR:
            lab_facts.append(_LabFacts.of(path, document))
            lab = _validate(LabTarget, path, document, problems)
            if lab is not None:
                labs[PurePosixPath(path).stem] = lab
                lab_files[PurePosixPath(path).stem] = path

    unread_images = any(PurePosixPath(p.file).parent.as_posix() == IMAGES_DIR for p in problems)
    if not image_facts and FACTORY_FILE in files and not unread_images:
        problems.append(Problem(IMAGES_DIR, 0, "", "holds no image definitions (images/*.yaml)"))
    problems += _check_images(image_facts)
    problems += _check_labs(lab_facts, image_facts)

    if problems or settings is None:
        raise ConfigInvalid(problems)
    return Factory(
        settings=settings,
        images=images,
        labs=labs,
        image_files=image_files,
        lab_files=lab_files,
        commit=commit,
    )


# Cross-file rules read the raw documents leniently, so that one file's type error does
# not hide (or fake) a problem elsewhere: every problem is reported in one pass.


@dataclass(frozen=True)
class _ImageFacts:
    path: str
    doc: LoadedYaml
    name: str | None
    os: str | None
    parent: str | None
    prefix: str | None

    @classmethod
    def of(cls, path: str, doc: LoadedYaml) -> _ImageFacts:
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
class _LabFacts:
    path: str
    doc: LoadedYaml
    lab: str | None
    patterns: list[str] | None
    pinned: dict[str, Any]

    @classmethod
    def of(cls, path: str, doc: LoadedYaml) -> _LabFacts:
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


def _check_images(facts: list[_ImageFacts]) -> list[Problem]:
    problems: list[Problem] = []
    by_name: dict[str, _ImageFacts] = {}
    for fact in sorted(facts, key=lambda f: f.path):
        if fact.name is None:
            continue
        first = by_name.setdefault(fact.name, fact)
        if first is not fact:
            problems.append(
                _at(
                    fact.path,
                    fact.doc,
                    ("name",),
                    f"image name '{fact.name}' is already "
                    f"defined in {first.path}:{first.doc.line_of(('name',))}; expected "
                    "unique names",
                )
            )
    for fact in facts:
        limit = naming.VM_NAME_LIMIT.get(OsType(fact.os)) if fact.os in _OS_NAMES else None
        if fact.prefix is not None and limit is not None:
            over = len(fact.prefix) + naming.VM_SUFFIX_LENGTH - limit
            if over > 0:
                problems.append(
                    _at(
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
                _at(
                    fact.path,
                    fact.doc,
                    ("base", "image"),
                    f"base image '{fact.parent}' is "
                    f"not an image definition{_did_you_mean(fact.parent, by_name)}; expected "
                    f"the name of one of: {', '.join(sorted(by_name))}",
                )
            )
        elif parent.os in _OS_NAMES and fact.os in _OS_NAMES and parent.os != fact.os:
            problems.append(
                _at(
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


def _check_cycles(by_name: dict[str, _ImageFacts]) -> list[Problem]:
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
            _at(
                fact.path,
                fact.doc,
                ("base", "image"),
                "layering cycle "
                f"{' -> '.join([*ordered, first])}; expected every chain of bases to end "
                "at a gallery image",
            )
        )
    return problems


def _check_labs(labs: list[_LabFacts], images: list[_ImageFacts]) -> list[Problem]:
    problems: list[Problem] = []
    names = {f.name for f in images if f.name is not None}
    seen: dict[str, str] = {}
    for fact in sorted(labs, key=lambda f: f.path):
        if fact.lab is not None:
            first = seen.setdefault(fact.lab.lower(), fact.path)
            if first != fact.path:
                problems.append(
                    _at(
                        fact.path,
                        fact.doc,
                        ("lab",),
                        f"this lab is already a target in {first}; expected one file per lab",
                    )
                )
        if fact.patterns is None:
            continue
        selected = select_images(fact.patterns, names)
        if fact.patterns and not selected:
            problems.append(
                _at(
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
                    _at(
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
                        _at(
                            fact.path,
                            fact.doc,
                            ("pinned", family, i),
                            f"'{version}' is not "
                            "a version; expected the form 20261124120000-ab12cd34",
                        )
                    )
    return problems


def select_images(patterns: Iterable[str], images: Iterable[str]) -> list[str]:
    """The image names a lab selects: exact names or globs, never a string prefix."""
    names = sorted(images)
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], path: str, document: LoadedYaml, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        problems += [_problem(path, document, error) for error in exc.errors()]
        return None


def _problem(path: str, document: LoadedYaml, error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return _at(path, document, loc, f"unknown key '{key}'{_did_you_mean(key, _KNOWN_KEYS)}")
    if kind == "missing":
        return _at(path, document, loc, "is required but missing")
    expected = _EXPECTED.get(kind)
    if expected is not None:
        message = f"expected {expected.format(**ctx)}, got {_describe(value)}"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = error["msg"][0].lower() + error["msg"][1:]
    return _at(path, document, loc, message)


def _at(path: str, document: LoadedYaml, loc: Loc, message: str) -> Problem:
    return Problem(path, document.line_of(loc), _field_path(loc), message)


def _field_path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"'{value}'"
    return f"{value!r} ({type(value).__name__})"


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _all_keys() -> set[str]:
    keys: set[str] = set()
    stack: list[type[BaseModel]] = [Model]
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        for name, field in cls.model_fields.items():
            keys.add(field.alias or name)
    return keys


_KNOWN_KEYS = _all_keys()

_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
    "greater_than_equal": "a number of at least {ge}",
    "greater_than": "a number greater than {gt}",
    "less_than_equal": "a number of at most {le}",
    "string_too_short": "text of at least {min_length} character(s)",
    "string_too_long": "text of at most {max_length} characters",
    "string_pattern_mismatch": "text matching {pattern}",
    "too_short": "at least {min_length} item(s)",
    "too_long": "at most {max_length} items",
}
