"""The fleet report: one self-contained HTML page of what the factory made and where it is.

`fleet(factory, inventory, now)` says, per family, which versions exist and, per lab, which
version it holds and whether it is behind the newest; `render_page(view, runs)` turns that
and the last run reports into one HTML document: inline CSS, no script, no external asset (it works
offline and from a file), readable on a phone. Everything from users (image, lab, artifact
and parameter names, failure reasons) is escaped. Tests read the matrix by its data-*
attributes: each cell is `td[data-lab][data-family]` with `data-state` and `data-version`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shared.config.models import Artifact, Factory, ImageDefinition
from shared.model import naming, tags
from shared.model.arm_ids import ArmIdError, parse_lab_id
from shared.planning.definition_hash import effective_artifacts
from shared.planning.inventory import CatalogEntry, Inventory, LabImage, LabInventory
from shared.planning.planner import newest_entry
from shared.planning.retention import version_key, version_problem
from shared.planning.selection import select_images
from shared.run.payloads import RunReport, StepResult
from shared.run.timeline import StepSpan


class CellState(StrEnum):
    """What a lab holds of a family, against the family's newest version."""

    CURRENT = "current"  # it holds the newest version
    BEHIND = "behind"  # it selects the family; its newest is older than the family's newest
    MISSING = "missing"  # it selects the family and holds none
    UNSELECTED = "unselected"  # it holds versions of a family it no longer selects
    NONE = "none"  # it neither selects nor holds the family
    UNKNOWN = "unknown"  # the lab could not be read


@dataclass(frozen=True)
class Cell:
    lab: str
    family: str
    state: CellState
    held: tuple[str, ...]  # the versions it holds, newest first

    @property
    def version(self) -> str | None:
        return self.held[0] if self.held else None


@dataclass(frozen=True)
class LabRow:
    lab: str  # the resource id
    name: str
    where: str  # subscription/resource group
    factory_lab: bool
    error: str | None
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class VersionRow:
    version: str
    created: datetime | None
    definition_hash: str | None
    commit: str | None
    base: str | None
    in_catalog: bool
    labs: int  # how many labs hold it


@dataclass(frozen=True)
class FamilyView:
    name: str
    definition: ImageDefinition | None  # None: versions remain of a removed definition
    newest: str | None
    versions: tuple[VersionRow, ...]  # newest first
    labs: tuple[str, ...]  # the names of the labs that select it


@dataclass(frozen=True)
class Fleet:
    factory_id: str
    now: datetime
    families: tuple[FamilyView, ...]
    labs: tuple[LabRow, ...]

    def family_names(self) -> list[str]:
        return [f.name for f in self.families]

    def count(self, state: CellState) -> int:
        return sum(cell.state is state for row in self.labs for cell in row.cells)


def _utc(moment: datetime) -> datetime:
    """A time in UTC, as the page shows every time; one without a zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _lab_name(lab_id: str) -> tuple[str, str]:
    try:
        parsed = parse_lab_id(lab_id)
    except ArmIdError:
        return lab_id, ""
    return parsed.name, f"{parsed.subscription[:8]}/{parsed.resource_group}"


def _ordered(versions: Iterable[str], now: datetime) -> list[str]:
    """Valid versions newest first; versions that cannot be ordered are left out."""
    valid = {v for v in versions if version_problem(v, now) is None}
    return sorted(valid, key=version_key, reverse=True)


def held_versions(lab: LabInventory, factory_id: str, now: datetime) -> dict[str, list[str]]:
    """The usable versions per family of this factory's images in a lab, newest first."""
    found: dict[str, set[str]] = {}
    for image in lab.images:
        family, version = _family_version(image, factory_id)
        if family is not None and version is not None:
            found.setdefault(family, set()).add(version)
    return {family: _ordered(versions, now) for family, versions in found.items()}


def _family_version(image: LabImage, factory_id: str) -> tuple[str | None, str | None]:
    if not tags.owned_by(image.tags, factory_id) or image.provisioning_state != "Succeeded":
        return None, None
    return image.family(), image.version()


def cell_state(selected: bool, held: Sequence[str], newest: str | None) -> CellState:
    """A lab's state for one family: `held` its valid versions newest first, `newest` the
    family's newest (a lab holding a version the catalog no longer has is not behind)."""
    if not held:
        return CellState.MISSING if selected else CellState.NONE
    if not selected:
        return CellState.UNSELECTED
    if newest is not None and version_key(held[0]) < version_key(newest):
        return CellState.BEHIND
    return CellState.CURRENT


@dataclass(frozen=True)
class _Facts:
    """What the inventory and the configuration say, indexed for the page."""

    catalog: dict[str, dict[str, CatalogEntry]]  # family -> version -> entry
    held: dict[str, dict[str, list[str]]]  # lab id (lowercase) -> family -> versions
    selected: dict[str, set[str]]  # lab id (lowercase) -> the families it selects
    newest: dict[str, str | None]  # family -> its newest version


def _facts(factory: Factory, inventory: Inventory, now: datetime) -> _Facts:
    factory_id = factory.settings.factory_id
    catalog: dict[str, dict[str, CatalogEntry]] = {}
    for entry in inventory.catalog:
        utc = entry.model_copy(update={"created": _utc(entry.created)})
        catalog.setdefault(entry.family, {})[entry.version] = utc
    held = {lab.lab.lower(): held_versions(lab, factory_id, now) for lab in inventory.labs}
    selected: dict[str, set[str]] = {}
    for target in factory.labs.values():
        chosen = select_images(target.images, factory.images)
        selected.setdefault(target.lab.lower(), set()).update(chosen)
    names = set(factory.images) | set(catalog) | {f for lab in held.values() for f in lab}
    newest: dict[str, str | None] = {}
    for name in names:
        best = newest_entry(catalog.get(name, {}).values(), now)
        everywhere = _ordered((v for lab in held.values() for v in lab.get(name, [])), now)
        newest[name] = best.version if best else next(iter(everywhere), None)
    return _Facts(catalog, held, selected, newest)


def _lab_row(factory: Factory, inventory: Inventory, facts: _Facts, lab_id: str) -> LabRow:
    key = lab_id.lower()
    is_factory = key == factory.settings.factory_lab.lower()
    parents = {i.base.image for i in factory.images.values() if i.base.image is not None}
    found = inventory.lab(lab_id)
    cells = []
    for family in _family_order(factory, facts):
        wanted = family in facts.selected.get(key, set())
        # the factory lab keeps the parents of layered images, copied when a child builds
        on_demand = is_factory and not wanted and family in parents
        versions = tuple(facts.held.get(key, {}).get(family, []))
        state = cell_state(wanted or on_demand, versions, facts.newest[family])
        if found is None or found.error is not None:
            state = CellState.UNKNOWN
        elif on_demand and state is CellState.MISSING:
            state = CellState.NONE
        cells.append(Cell(lab_id, family, state, versions))
    name, where = _lab_name(lab_id)
    error = found.error if found is not None else "not in the inventory"
    return LabRow(lab_id, name, where, is_factory, error, tuple(cells))


def _family_order(factory: Factory, facts: _Facts) -> list[str]:
    """Defined families by name, then families of removed definitions."""
    return sorted(facts.newest, key=lambda name: (name not in factory.images, name))


def _family_view(
    factory: Factory, facts: _Facts, rows: Sequence[LabRow], name: str, now: datetime
) -> FamilyView:
    entries = facts.catalog.get(name, {})
    holders: dict[str, int] = {}
    for lab in facts.held.values():
        for version in lab.get(name, []):
            holders[version] = holders.get(version, 0) + 1
    versions = []
    for version in _ordered(set(entries) | set(holders), now):
        entry = entries.get(version)
        versions.append(
            VersionRow(
                version=version,
                created=entry.created if entry else None,
                definition_hash=entry.definition_hash if entry else None,
                commit=entry.commit if entry else None,
                base=entry.base if entry else None,
                in_catalog=entry is not None,
                labs=holders.get(version, 0),
            )
        )
    selecting = tuple(r.name for r in rows if name in facts.selected.get(r.lab.lower(), set()))
    return FamilyView(
        name, factory.images.get(name), facts.newest[name], tuple(versions), selecting
    )


def fleet(factory: Factory, inventory: Inventory, now: datetime) -> Fleet:
    """Versions per family and, per lab (the configured labs, then the factory lab), what it
    holds of each family."""
    facts = _facts(factory, inventory, now)
    lab_ids: dict[str, str] = {}
    for target in sorted(factory.labs.values(), key=lambda t: _lab_name(t.lab)):
        lab_ids.setdefault(target.lab.lower(), target.lab)
    lab_ids.setdefault(factory.settings.factory_lab.lower(), factory.settings.factory_lab)
    rows = tuple(_lab_row(factory, inventory, facts, lab_id) for lab_id in lab_ids.values())
    families = tuple(
        _family_view(factory, facts, rows, name, now) for name in _family_order(factory, facts)
    )
    return Fleet(factory.settings.factory_id, _utc(now), families, rows)


# --- the page -------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --dim: #6e7781;
  --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; font: 15px/1.45 system-ui, sans-serif;
  color: #1f2328; overflow-wrap: break-word; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .25rem; }
h4 { font-size: .95rem; margin: .75rem 0 .25rem; }
nav a { margin-right: .75rem; } .dim, small { color: var(--dim); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em;
  overflow-wrap: anywhere; }
.mono.short, .age { white-space: nowrap; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem;
  border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); font-weight: 600; white-space: nowrap; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 1rem; font-size: .75rem;
  font-weight: 600; border: 1px solid currentColor; margin-left: .25rem; white-space: nowrap; }
.current { color: var(--ok); } .behind, .warn { color: var(--warn); }
.missing, .bad, .failed { color: var(--bad); } .none, .unselected, .unknown { color: var(--dim); }
td.behind { background: #fff8c5; } td.missing { background: #ffebe9; }
td.unselected .mono { text-decoration: line-through; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .25rem 0; }
dt { color: var(--dim); } dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
ol, ul { margin: .25rem 0; padding-left: 1.25rem; }
.legend span { margin-right: .75rem; }
.timeline { border: 1px solid var(--line); border-radius: .4rem; padding: .5rem; }
.tl-image { margin: .5rem 0 .75rem; } .tl-image h4 { margin: 0 0 .2rem; }
.tl-lane { display: grid; grid-template-columns: minmax(6rem, 32%) 1fr; gap: .5rem;
  align-items: center; font-size: .8rem; }
.tl-track { position: relative; height: .9rem; background: var(--soft); }
.tl-bar { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px;
  background: #0969da; }
.tl-bar.build { background: #8250df; } .tl-bar.capture { background: #0969da; }
.tl-bar.gate { background: #bf8700; } .tl-bar.distribute { background: #1a7f37; }
.tl-axis { display: flex; justify-content: space-between; font-size: .75rem; color: var(--dim); }
@media (max-width: 640px) {
  body { padding: .5rem; font-size: 14px; }
  table.cards, table.cards tbody, table.cards tr, table.cards td, table.cards th {
    display: block; width: 100%; }
  table.cards thead { display: none; }
  table.cards tr { border: 1px solid var(--line); border-radius: .4rem; margin: .5rem 0;
    padding: .25rem 0; }
  table.cards td, table.cards th { border: 0; padding: .15rem .5rem; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--dim); }
  table.matrix td.none { display: none; }
}
"""

_STATE_TEXT = {
    CellState.CURRENT: "newest",
    CellState.BEHIND: "behind",
    CellState.MISSING: "missing",
    CellState.UNSELECTED: "not selected",
    CellState.NONE: "",
    CellState.UNKNOWN: "unknown",
}


def _e(value: object) -> str:
    """Text or an attribute value, escaped: names and reasons come from users."""
    return html.escape(str(value), quote=True)


def _attrs(**values: object) -> str:
    """` data-x="..."` for each value that is not None; `data_x` names become `data-x`."""
    return "".join(
        f' {name.replace("_", "-")}="{_e(value)}"'
        for name, value in values.items()
        if value is not None
    )


def age(delta: timedelta) -> str:
    """`3 d`, `5 h`, `12 min`: how long ago, for people."""
    seconds = max(delta.total_seconds(), 0)
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)} d"
    if seconds >= 2 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min"


def _duration(delta: timedelta) -> str:
    seconds = int(max(delta.total_seconds(), 0))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _matrix(view: Fleet) -> str:
    families = view.family_names()
    head = "".join(
        f"<th{_attrs(data_family=f)}><a{_attrs(href='#family-' + f)}>{_e(f)}</a></th>"
        for f in families
    )
    rows = []
    for lab in view.labs:
        label = _e(lab.name) + (" <small>(factory lab)</small>" if lab.factory_lab else "")
        if lab.where:
            label += f"<br><small>{_e(lab.where)}</small>"
        if lab.error:
            label += f'<br><small class="bad">{_e(lab.error)}</small>'
        cells = []
        for cell in lab.cells:
            text = f'<span class="mono">{_e(cell.version)}</span>' if cell.version else "—"
            badge = _STATE_TEXT[cell.state]
            if badge:
                text += f' <span class="badge">{_e(badge)}</span>'
            if len(cell.held) > 1:
                text += f" <small>+{len(cell.held) - 1} older</small>"
            cells.append(
                f'<td class="{cell.state.value}"'
                + _attrs(
                    data_lab=lab.lab,
                    data_family=cell.family,
                    data_state=cell.state.value,
                    data_version=cell.version or "",
                    data_label=cell.family,
                    title=", ".join(cell.held) or None,
                )
                + f">{text}</td>"
            )
        rows.append(f"<tr{_attrs(data_lab_row=lab.lab)}><th>{label}</th>{''.join(cells)}</tr>")
    legend = "".join(
        f'<span class="{state.value}">{_e(text)}</span>'
        for state, text in (
            (CellState.CURRENT, "newest: holds the family's newest version"),
            (CellState.BEHIND, "behind: holds an older version only"),
            (CellState.MISSING, "missing: selects the family, holds none"),
            (CellState.UNSELECTED, "not selected: held, but the lab no longer selects it"),
        )
    )
    return (
        '<section id="labs"><h2>Labs and versions</h2>'
        f'<table class="matrix cards"><thead><tr><th>lab</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="legend"><small>{legend}</small></p></section>'
    )


def _artifacts(title: str, artifacts: Sequence[Artifact]) -> str:
    if not artifacts:
        return ""
    items = []
    for artifact in artifacts:
        source = (
            "" if artifact.source == "public repo" else f" <small>({_e(artifact.source)})</small>"
        )
        parameters = "".join(
            f"<li><code>{_e(name)}</code> = <code>{_e(value)}</code></li>"
            for name, value in artifact.parameters.items()
        )
        items.append(
            f"<li><code>{_e(artifact.name)}</code>{source}"
            + (f"<ul>{parameters}</ul>" if parameters else "")
            + "</li>"
        )
    return f"<h4>{_e(title)}</h4><ol>{''.join(items)}</ol>"


def _base(definition: ImageDefinition) -> str:
    gallery = definition.base.gallery
    if gallery is not None:
        return f"{gallery.publisher}/{gallery.offer}/{gallery.sku}@{gallery.version}"
    return f"layered on {definition.base.image}"


def _family(family: FamilyView, now: datetime) -> str:
    definition = family.definition
    parts = [f"<article{_attrs(id='family-' + family.name, data_family=family.name)}>"]
    parts.append(f"<h3>{_e(family.name)}</h3>")
    if definition is None:
        parts.append('<p class="warn">No definition: versions of a removed image remain.</p>')
    else:
        if definition.description:
            parts.append(f"<p>{_e(definition.description)}</p>")
        facts = [
            ("base", _base(definition)),
            ("os", definition.os.value),
            ("VM size", definition.vm_size),
            ("labs", ", ".join(family.labs) or "none selects it"),
        ]
        parts.append(
            "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>"
        )
    rows = []
    for row in family.versions:
        newest = (
            ' <span class="badge current">newest</span>' if row.version == family.newest else ""
        )
        hash_text = _mono(row.definition_hash, 12)
        cells = [
            _mono(row.version) + newest,
            f'<span class="age">{_e(age(now - row.created))}</span>' if row.created else "—",
            hash_text if row.in_catalog else '<span class="dim">not in the catalog</span>',
            _mono(row.commit, 12),
            _mono(row.base),
            _e(row.labs),
        ]
        rows.append((_attrs(data_family=family.name, data_version=row.version), cells))
    if rows:
        columns = ("version", "age", "hash", "commit", "base", "labs")
        parts.append(_table("versions", columns, rows))
    else:
        parts.append('<p class="dim">No version built yet.</p>')
    if definition is not None:
        parts.append(_artifacts("Artifacts", effective_artifacts(definition)))
        parts.append(_artifacts("Test gate", definition.test_artifacts))
    parts.append("</article>")
    return "".join(parts)


def outcome(report: RunReport) -> tuple[CellState | None, str]:
    """How a run ended, in a word or two, and the state whose colour shows it."""
    if report.problems:
        return CellState.MISSING, "invalid configuration"
    if report.failed:
        return CellState.MISSING, f"{len(report.failed)} failed"
    if report.dry_run:
        return None, "dry run"
    if not report.built and not report.distributed:
        return CellState.CURRENT, "nothing to do"
    return CellState.CURRENT, "delivered"


def _minute(moment: datetime | None) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _table(css: str, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table whose cells are already HTML; each row is (its attributes, its cells). On a
    phone it reads as cards, each cell labelled with its column."""
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        f"<tr{attrs}>"
        + "".join(
            f"<td{_attrs(data_label=c)}>{v}</td>" for c, v in zip(columns, cells, strict=True)
        )
        + "</tr>"
        for attrs, cells in rows
    )
    return f'<table class="{css} cards"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _mono(value: str | None, length: int | None = None) -> str:
    """A name or id in monospace; cut to `length` characters, the whole in its title."""
    if not value:
        return "—"
    if not length:
        return f'<span class="mono">{_e(value)}</span>'
    title = _attrs(title=value) if len(value) > length else ""
    return f'<span class="mono short"{title}>{_e(value[:length])}</span>'


def _runs(runs: Sequence[RunReport], names: dict[str, str]) -> str:
    title = '<section id="runs"><h2>Last runs</h2>'
    if not runs:
        return title + '<p class="dim">No run reports given.</p></section>'
    rows = []
    failures = []
    for report in runs:
        state, text = outcome(report)
        css = f' class="{state.value}"' if state else ""
        cells = [
            _mono(report.instance_id or "?"),
            _e(_minute(report.started)),
            _e(report.trigger or "—"),
            _mono(report.commit, 12),
            f"<strong{css}>{_e(text)}</strong>",
            *(
                _e(len(results))
                for results in (report.built, report.distributed, report.failed, report.skipped)
            ),
        ]
        rows.append((_attrs(data_run=report.instance_id, data_outcome=text), cells))
        for problem in report.problems:
            failures.append((report.instance_id, "configuration", "", "load", problem))
        for result in report.failed:
            image = naming.image_name(result.family, result.version)
            failures.append(
                (report.instance_id, image, _where(result, names), result.step, result.reason)
            )
    columns = (
        "run",
        "started",
        "trigger",
        "commit",
        "outcome",
        "built",
        "distributed",
        "failed",
        "skipped",
    )
    parts = [title, _table("runs", columns, rows)]
    if failures:
        failure_rows = [
            (
                _attrs(data_run=run, data_image=image, data_step=step),
                [_e(v) for v in (run, image, where, step, reason)],
            )
            for run, image, where, step, reason in failures
        ]
        parts.append("<h3>Failures</h3>")
        parts.append(_table("failures", ("run", "image", "where", "step", "reason"), failure_rows))
    parts.append("</section>")
    return "".join(parts)


def _where(result: StepResult, names: dict[str, str]) -> str:
    if result.lab is None:
        return "factory lab"
    return names.get(result.lab.lower()) or _lab_name(result.lab)[0]


def image_timelines(report: RunReport) -> list[tuple[str, list[StepSpan]]]:
    """The spans of each image's build and distributions, images in the order they started."""
    spans: dict[str, list[StepSpan]] = {}
    for result in [*report.built, *report.failed, *report.distributed, *report.skipped]:
        image = naming.image_name(result.family, result.version)
        for span in result.spans:
            utc = span.model_copy(update={"start": _utc(span.start), "end": _utc(span.end)})
            spans.setdefault(image, []).append(utc)
    ordered = sorted(spans.items(), key=lambda item: (min(s.start for s in item[1]), item[0]))
    return [(image, sorted(s, key=lambda s: (s.start, s.end, s.name))) for image, s in ordered]


def _step_kind(span: StepSpan) -> str:
    """The colour of a bar: a distribution to a lab, the capture, the test gate, the build."""
    name = span.name.lower()
    if span.lab is not None or "copy" in name or "distribut" in name:
        return "distribute"
    if "capture" in name:
        return "capture"
    if "gate" in name or "test" in name:
        return "gate"
    return "build"


def _timeline(report: RunReport | None, names: dict[str, str]) -> str:
    title = '<section id="timeline"><h2>Timeline of the latest run</h2>'
    if report is None:
        return title + '<p class="dim">No run reports given.</p></section>'
    images = image_timelines(report)
    run = f"<p>Run {_mono(report.instance_id or '?')}"
    if not images:
        return title + run + ": its report records no step times.</p></section>"
    spans = [span for _, image_spans in images for span in image_spans]
    start = min([s.start for s in spans] + ([_utc(report.started)] if report.started else []))
    end = max([s.end for s in spans] + ([_utc(report.ended)] if report.ended else []))
    total = max((end - start).total_seconds(), 1.0)
    parts = [
        title,
        f"{run}, {_e(_minute(start))} to {_e(_minute(end))} UTC "
        f"({_e(_duration(end - start))}).</p>",
        '<div class="timeline">',
        f'<div class="tl-axis"><span>{_e(start.strftime("%H:%M"))}</span>'
        f"<span>{_e(end.strftime('%H:%M'))}</span></div>",
    ]
    for image, image_spans in images:
        parts.append(f'<div class="tl-image"{_attrs(data_image=image)}><h4>{_e(image)}</h4>')
        for span in image_spans:
            left = (span.start - start).total_seconds() / total * 100
            width = max(span.seconds / total * 100, 0.0)
            where = names.get(span.lab.lower()) or _lab_name(span.lab)[0] if span.lab else ""
            label = f"{span.name} → {where}" if where else span.name
            tip = (
                f"{label}: {span.start.strftime('%H:%M:%S')} to {span.end.strftime('%H:%M:%S')}"
                f" ({_duration(span.end - span.start)})"
            )
            bar = _attrs(
                style=f"left: {left:.3f}%; width: {width:.3f}%",
                title=tip,
                data_image=image,
                data_step=span.name,
                data_lab=span.lab,
                data_start=span.start.isoformat(),
                data_end=span.end.isoformat(),
            )
            parts.append(
                f'<div class="tl-lane"><span>{_e(label)}</span><div class="tl-track">'
                f'<div class="tl-bar {_step_kind(span)}"{bar}></div></div></div>'
            )
        parts.append("</div>")
    parts.append("</div></section>")
    return "".join(parts)


def render_page(view: Fleet, runs: Sequence[RunReport]) -> str:
    """The whole page of `fleet(...)`'s view. `runs` newest first; the timeline is the
    first run's."""
    now = view.now
    names = {row.lab.lower(): row.name for row in view.labs}
    summary = (
        f"As of {_minute(now)} UTC: {len(view.families)} image families in "
        f"{len(view.labs)} labs; {view.count(CellState.BEHIND)} behind the newest, "
        f"{view.count(CellState.MISSING)} missing."
    )
    families = "".join(_family(f, now) for f in view.families)
    body = [
        f"<header><h1>Image factory {_e(view.factory_id)}</h1><p>{_e(summary)}</p>",
        '<nav><a href="#labs">labs</a><a href="#families">families</a>'
        '<a href="#runs">runs</a><a href="#timeline">timeline</a></nav></header>',
        _matrix(view),
        f'<section id="families"><h2>Image families</h2>{families}</section>',
        _runs(runs, names),
        _timeline(runs[0] if runs else None, names),
    ]
    title = f"Image factory {view.factory_id}: fleet report"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
