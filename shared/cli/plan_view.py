"""A plan for people, in the manner of `terraform plan`: what changes, and why."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from shared.model.arm_ids import ArmIdError, parse_lab_id
from shared.planning.plan import Plan


def lab_label(lab_id: str) -> str:
    """`lab (subscription/group)`: short but unambiguous."""
    try:
        parsed = parse_lab_id(lab_id)
    except ArmIdError:
        return lab_id
    return f"{parsed.name} ({parsed.subscription[:8]}/{parsed.resource_group})"


def render_plan(plan: Plan, console: Console) -> None:
    trigger = plan.trigger
    header = f"Plan for factory '{plan.factory_id}' at {plan.now.isoformat()}"
    header += f", {trigger.kind} run"
    if plan.commit:
        header += f", commit {plan.commit[:12]}"
    if trigger.dry_run:
        header += " (dry run: nothing will change)"
    console.print(Text(header, style="bold"))
    console.print()

    waves = plan.waves()
    for number, wave in enumerate(waves, start=1):
        console.print(Text(f"Build, wave {number} of {len(waves)}:", style="bold"))
        for build in wave:
            line = Text("  + ", style="green")
            line.append(f"{build.family} {build.version}", style="green")
            line.append(f"  {build.reason.value}")
            if build.detail:
                line.append(f" ({build.detail})", style="dim")
            console.print(line)
            console.print(Text(f"      from {build.base} on VM {build.vm_name}", style="dim"))
    _changes(
        console,
        "Distribute:",
        "+",
        "green",
        [(f"{d.image_name} -> {lab_label(d.lab)}", d.reason) for d in plan.distributions],
    )
    _changes(
        console,
        "Retire:",
        "-",
        "red",
        [(f"{r.image_name} in {lab_label(r.lab)}", r.reason) for r in plan.retirements],
    )
    _changes(console, "Clean up:", "-", "red", [
        (f"VM {c.vm_name} in {lab_label(c.lab)}", c.reason) for c in plan.cleanups
    ])  # fmt: skip
    _changes(console, "Prune from the catalog (the orphan sweep deletes):", "-", "red", [
        (f"VHD {p.blob_name}", p.reason) for p in plan.prunes
    ])  # fmt: skip
    if plan.skips:
        console.print(Text("Unchanged:", style="bold"))
        for skip in plan.skips:
            where = f" in {lab_label(skip.lab)}" if skip.lab else ""
            console.print(Text(f"  = {skip.family}{where}  {skip.reason}", style="dim"))
    if plan.warnings:
        console.print(Text("Warnings:", style="bold yellow"))
        for warning in plan.warnings:
            console.print(Text(f"  ! {warning}", style="yellow"))
    console.print()
    console.print(
        Text(
            f"Plan: {len(plan.builds)} to build, {len(plan.distributions)} to distribute, "
            f"{len(plan.retirements)} to retire, {len(plan.cleanups)} to clean up"
            + (f", {len(plan.prunes)} to prune from the catalog." if plan.prunes else "."),
            style="bold",
        )
    )


def _changes(
    console: Console, title: str, sign: str, style: str, rows: list[tuple[str, str]]
) -> None:
    """One section of changes: `  + what  why`."""
    if not rows:
        return
    console.print(Text(title, style="bold"))
    for what, why in rows:
        line = Text(f"  {sign} ", style=style)
        line.append(what, style=style)
        line.append(f"  {why}")
        console.print(line)
