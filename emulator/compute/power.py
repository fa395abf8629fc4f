"""The power state of a compute VM: a managed state machine driven by simulated time.

States, codes and display strings as Compute reports them in a VM's instance view
(`PowerState/<state>`, "VM <state>"; Microsoft's "States and billing status of Azure
Virtual Machines"). A guest shutdown (what sysprep and deprovision end with) leaves the
VM `stopped`: still allocated, its disks still attached to a running host. Only a
deallocation (what DevTest Labs' `stop` does) ends in `deallocated`.

The transitions are a table (action -> states it may start from, the state while it
runs, the state it ends in), in the manner of moto's managed state models: `begin` starts
one with its duration, `advance` finishes it once the simulated clock reaches its end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

PowerStateName = Literal[
    "starting", "running", "stopping", "stopped", "deallocating", "deallocated"
]
PowerAction = Literal["start", "deallocate", "power_off"]


@dataclass(frozen=True)
class Transition:
    """An action: the states it may start from, the state while it runs, where it ends."""

    sources: frozenset[PowerStateName]
    via: PowerStateName
    target: PowerStateName


TRANSITIONS: dict[PowerAction, Transition] = {
    "start": Transition(frozenset({"stopped", "deallocated"}), "starting", "running"),
    "deallocate": Transition(frozenset({"running", "stopped"}), "deallocating", "deallocated"),
    "power_off": Transition(frozenset({"running"}), "stopping", "stopped"),
}


class PowerStateMachine(BaseModel):
    """Where a VM's power is, and the transition under way (if any) with its end time."""

    state: PowerStateName = "running"
    previous: PowerStateName | None = None
    target: PowerStateName | None = None
    until: dt.datetime | None = None

    @property
    def transitioning(self) -> bool:
        return self.target is not None

    def settled_in(self, action: PowerAction) -> bool:
        """True when the VM already is where `action` would take it (nothing to do)."""
        return not self.transitioning and self.state == TRANSITIONS[action].target

    def can_begin(self, action: PowerAction) -> bool:
        return not self.transitioning and self.state in TRANSITIONS[action].sources

    def begin(self, action: PowerAction, now: dt.datetime, seconds: float) -> None:
        transition = TRANSITIONS[action]
        if not self.can_begin(action):
            raise ValueError(f"A VM that is {self.state} cannot {action}.")
        self.previous = self.state
        self.state = transition.via
        self.target = transition.target
        self.until = now + dt.timedelta(seconds=seconds)

    def due(self, now: dt.datetime) -> bool:
        return self.until is not None and self.until <= now

    def finish(self) -> None:
        """The transition completed: the VM is in its target state."""
        if self.target is not None:
            self.state = self.target
        self._settle()

    def revert(self) -> None:
        """The transition failed: the VM is back where it started."""
        if self.previous is not None:
            self.state = self.previous
        self._settle()

    def set(self, state: PowerStateName) -> None:
        """Jump to a state at once (a guest shutdown that happened inside an artifact)."""
        self.state = state
        self._settle()

    def _settle(self) -> None:
        self.previous = None
        self.target = None
        self.until = None

    @property
    def code(self) -> str:
        return f"PowerState/{self.state}"

    @property
    def display_status(self) -> str:
        return f"VM {self.state}"
