"""A plan for people, in the manner of `terraform plan`: what changes, and why."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from shared.arm_ids import ArmIdError, parse_lab_id
from shared.plan import Plan


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
    if plan.distributions:
        console.print(Text("Distribute:", style="bold"))
        for dist in plan.distributions:
            line = Text("  + ", style="green")
            line.append(f"{dist.image_name} -> {lab_label(dist.lab)}", style="green")
            line.append(f"  {dist.reason}")
            console.print(line)
    if plan.retirements:
        console.print(Text("Retire:", style="bold"))
        for retirement in plan.retirements:
            line = Text("  - ", style="red")
            line.append(f"{retirement.image_name} in {lab_label(retirement.lab)}", style="red")
            line.append(f"  {retirement.reason}")
            console.print(line)
    if plan.cleanups:
        console.print(Text("Clean up:", style="bold"))
        for cleanup in plan.cleanups:
            line = Text("  - ", style="red")
            line.append(f"VM {cleanup.vm_name} in {lab_label(cleanup.lab)}", style="red")
            line.append(f"  {cleanup.reason}")
            console.print(line)
    if plan.skips:
        console.print(Text("Unchanged:", style="bold"))
        for skip in plan.skips:
            where = f" in {lab_label(skip.lab)}" if skip.lab else ""
            console.print(Text(f"  = {skip.family}{where}  {skip.reason}", style="dim"))
    console.print()
    console.print(
        Text(
            f"Plan: {len(plan.builds)} to build, {len(plan.distributions)} to distribute, "
            f"{len(plan.retirements)} to retire, {len(plan.cleanups)} to clean up.",
            style="bold",
        )
    )
