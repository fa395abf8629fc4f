"""Microsoft.Compute error codes."""

from __future__ import annotations

from emulator.exceptions import ArmError


class OperationNotAllowed(ArmError):
    status = 409
    code = "OperationNotAllowed"


class InvalidAccessLevel(ArmError):
    code = "InvalidParameter"
