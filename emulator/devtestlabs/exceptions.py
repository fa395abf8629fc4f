"""DevTest Labs error codes (rendered by `emulator.exceptions.ArmError`)."""

from __future__ import annotations

from emulator.exceptions import ArmError


class InvalidGalleryImageReference(ArmError): ...


class MissingRequiredProperties(ArmError): ...


class InvalidArtifact(ArmError): ...


class InvalidVmSize(ArmError): ...


class CustomImageNotReady(ArmError): ...


class VhdNotFound(ArmError, code="InvalidVhd"): ...


class PolicyViolation(ArmError, status=409): ...


class OperationInProgress(ArmError, status=409, code="Conflict"):
    @classmethod
    def on(cls, what: str) -> OperationInProgress:
        """`what` names the resource: "virtual machine 'vm1'"."""
        return cls(f"The {what} has an operation in progress; retry when it has finished.")


class VmNotRunning(ArmError, status=409): ...


class InvalidFilter(ArmError): ...


class RequiredPropertyNullOrEmpty(ArmError): ...
