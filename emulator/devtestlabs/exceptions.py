"""DevTest Labs error codes (rendered by `emulator.exceptions.ArmError`)."""

from __future__ import annotations

from emulator.exceptions import ArmError


class InvalidGalleryImageReference(ArmError):
    code = "InvalidGalleryImageReference"


class MissingRequiredProperties(ArmError):
    code = "MissingRequiredProperties"


class InvalidArtifact(ArmError):
    code = "InvalidArtifact"


class InvalidVmSize(ArmError):
    code = "InvalidVmSize"


class CustomImageNotReady(ArmError):
    code = "CustomImageNotReady"


class VhdNotFound(ArmError):
    code = "InvalidVhd"


class PolicyViolation(ArmError):
    status = 409
    code = "PolicyViolation"


class OperationInProgress(ArmError):
    status = 409
    code = "Conflict"

    @classmethod
    def on(cls, what: str) -> OperationInProgress:
        """`what` names the resource: "virtual machine 'vm1'"."""
        return cls(f"The {what} has an operation in progress; retry when it has finished.")


class VmNotRunning(ArmError):
    status = 409
    code = "VmNotRunning"


class InvalidFilter(ArmError):
    code = "InvalidFilter"


class RequiredPropertyNullOrEmpty(ArmError):
    code = "RequiredPropertyNullOrEmpty"
