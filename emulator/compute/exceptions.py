"""Microsoft.Compute error codes."""

from __future__ import annotations

from emulator.exceptions import ArmError


class AccessNotPermitted(ArmError):
    """Disk access asked for while the disk's VM is not deallocated."""

    status = 409
    code = "Conflict"


class InvalidAccessLevel(ArmError):
    code = "InvalidParameter"
