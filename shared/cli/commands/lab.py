"""`imagefactory lab vm|image|env ...`: single-step lab tasks (each sets its own run)."""

from __future__ import annotations

from shared.cli.command import Command
from shared.lab_tasks.cli import add_lab_arguments

COMMAND = Command(
    "lab", "single-step lab tasks: VMs, custom images, environments", add_lab_arguments
)
