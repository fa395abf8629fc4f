"""Load and validate a configuration repository, reporting every problem in one pass.

Each problem is one sentence naming the file, the line, the field path and what was
expected. The loader works on a mapping of repository paths to text, so a directory,
a Git commit or a test can feed it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from shared.config.messages import ConfigInvalid, Problem, validate
from shared.config.models import Factory, FactorySettings, ImageDefinition, LabTarget
from shared.config.rules import ImageFacts, LabFacts, check_images, check_labs, lab_warnings
from shared.config.yaml_lines import LoadedYaml, YamlSyntaxError, parse_yaml

FACTORY_FILE = "factory.yaml"
IMAGES_DIR = "images"
LABS_DIR = "labs"
YAML_SUFFIXES = (".yaml", ".yml")

__all__ = ["ConfigInvalid", "Problem", "load_directory", "load_files", "read_directory"]

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
        settings = validate(FactorySettings, FACTORY_FILE, parsed[FACTORY_FILE], problems)

    images: dict[str, ImageDefinition] = {}
    image_files: dict[str, str] = {}
    labs: dict[str, LabTarget] = {}
    lab_files: dict[str, str] = {}
    image_facts: list[ImageFacts] = []
    lab_facts: list[LabFacts] = []
    for path, document in parsed.items():
        folder = PurePosixPath(path).parent.as_posix()
        if folder == IMAGES_DIR:
            image_facts.append(ImageFacts.of(path, document))
            image = validate(ImageDefinition, path, document, problems)
            if image is not None and image.name not in images:
                images[image.name] = image
                image_files[image.name] = path
        elif folder == LABS_DIR:
            lab_facts.append(LabFacts.of(path, document))
            lab = validate(LabTarget, path, document, problems)
            if lab is not None:
                labs[PurePosixPath(path).stem] = lab
                lab_files[PurePosixPath(path).stem] = path

    unread_images = any(PurePosixPath(p.file).parent.as_posix() == IMAGES_DIR for p in problems)
    if not image_facts and FACTORY_FILE in files and not unread_images:
        problems.append(Problem(IMAGES_DIR, 0, "", "holds no image definitions (images/*.yaml)"))
    problems += check_images(image_facts)
    problems += check_labs(lab_facts, image_facts)

    if problems or settings is None:
        raise ConfigInvalid(problems)
    return Factory(
        settings=settings,
        images=images,
        labs=labs,
        image_files=image_files,
        lab_files=lab_files,
        commit=commit,
        warnings=[str(w) for w in sorted(lab_warnings(lab_facts, image_facts))],
    )
