"""Microsoft.Resources error codes (rendered by `emulator.exceptions.ArmError`)."""

from __future__ import annotations

from emulator.exceptions import ArmError


class InvalidTemplate(ArmError): ...


class DeploymentNotFound(ArmError, status=404): ...


class DeploymentActive(ArmError, status=409): ...


class InvalidDeploymentMode(ArmError): ...
