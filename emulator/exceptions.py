"""ARM-shaped errors: one class per error code, rendered in one place (`ArmError.body`).

Every error reaches the client as `{"error": {"code": ..., "message": ...}}` with the
status the real service uses. Service-specific errors live next to their service.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ArmError(Exception):
    """Base class; the message is one sentence. An error code is declared in one line,
    `class DeploymentNotFound(ArmError, status=404): ...`: its code is its name unless
    `code=` says otherwise (where a service answers with a general code), its status 400
    unless `status=` (or the class it refines) says otherwise."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        cls.code = code or cls.__name__

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class AuthenticationFailed(ArmError, status=401):
    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                'error="invalid_token", error_description="The authentication failed."'
            },
        )


class InvalidAuthenticationToken(AuthenticationFailed): ...


class ExpiredAuthenticationToken(AuthenticationFailed): ...


class InvalidAuthenticationTokenAudience(AuthenticationFailed): ...


class MissingApiVersionParameter(ArmError): ...


class InvalidApiVersionParameter(ArmError): ...


class NoRegisteredProviderFound(ArmError): ...


class InvalidResourceType(ArmError, status=404): ...


class InvalidRequestContent(ArmError): ...


class UnsupportedMediaType(ArmError, status=415): ...


class InvalidParameter(ArmError): ...


class MissingRequiredProperty(ArmError):
    @classmethod
    def of_body(cls, path: str) -> MissingRequiredProperty:
        """The request body lacks `path` (like `properties.template`)."""
        return cls(f"The request body is missing the required property '{path}'.")


class SubscriptionNotFound(ArmError, status=404): ...


class ResourceGroupNotFound(ArmError, status=404): ...


class ResourceNotFound(ArmError, status=404):
    """ARM's 404 for a resource that does not exist. ARM's own form, "The Resource
    '<type path>' under resource group '<rg>' was not found.", ends with its help link
    (recorded: Azure/azure-cli test_lab_vm.yaml, 2025)."""

    HINT: ClassVar[str] = " For more details please go to https://aka.ms/ARMResourceNotFoundFix"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        if message.startswith("The Resource '") and not message.endswith(self.HINT):
            message += self.HINT
        super().__init__(message, headers)

    @classmethod
    def under(cls, type_path: str, resource_group: str) -> ResourceNotFound:
        """ARM's form, `type_path` like `Microsoft.Compute/disks/disk1`."""
        return cls(
            f"The Resource '{type_path}' under resource group '{resource_group}' was not found."
        )


class MethodNotAllowed(ArmError, status=405): ...


class Conflict(ArmError, status=409): ...


class QuotaExceeded(ArmError, status=409): ...


class SubscriptionRequestsThrottled(ArmError, status=429): ...


class InternalServerError(ArmError, status=500): ...


class NotImplementedByEmulator(ArmError, status=501, code="NotImplemented"): ...


class ServiceUnavailable(ArmError, status=503): ...


class OperationNotFound(ArmError, status=404): ...


class InvalidTagNameCharacters(ArmError): ...


class InvalidTagNameLength(ArmError): ...


class InvalidTagValueLength(ArmError): ...


class InvalidTagCount(ArmError): ...


class InvalidResourceName(ArmError): ...
