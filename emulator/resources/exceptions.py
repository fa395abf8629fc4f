"""Microsoft.Resources error codes (rendered by `emulator.exceptions.ArmError`)."""

from __future__ import annotations

from emulator.exceptions import ArmError


class InvalidTemplate(ArmError):
    code = "InvalidTemplate"


class DeploymentNotFound(ArmError):
    status = 404
    code = "DeploymentNotFound"


class DeploymentActive(ArmError):
    status = 409
    code = "DeploymentActive"


class InvalidDeploymentMode(ArmError):
    code = "InvalidDeploymentMode"
