"""Microsoft.Compute error codes."""

from __future__ import annotations

from emulator.exceptions import ArmError


class AccessNotPermitted(ArmError, status=409, code="Conflict"):
    """Disk access asked for while the disk's VM is not deallocated."""


class InvalidAccessLevel(ArmError, code="InvalidParameter"): ...
