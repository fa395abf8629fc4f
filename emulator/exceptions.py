"""ARM-shaped errors: one class per error code, rendered in one place (`ArmError.body`).

Every error reaches the client as `{"error": {"code": ..., "message": ...}}` with the
status the real service uses. Service-specific errors live next to their service.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ArmError(Exception):
    """Base class: subclasses fix `status` and `code`; the message is one sentence."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadRequest"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class AuthenticationFailed(ArmError):
    status = 401
    code = "AuthenticationFailed"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.windows.net/", '
                'error="invalid_token", error_description="The authentication failed."'
            },
        )


class InvalidAuthenticationToken(AuthenticationFailed):
    code = "InvalidAuthenticationToken"


class ExpiredAuthenticationToken(AuthenticationFailed):
    code = "ExpiredAuthenticationToken"


class InvalidAuthenticationTokenAudience(AuthenticationFailed):
    code = "InvalidAuthenticationTokenAudience"


class MissingApiVersionParameter(ArmError):
    code = "MissingApiVersionParameter"


class InvalidApiVersionParameter(ArmError):
    code = "InvalidApiVersionParameter"


class NoRegisteredProviderFound(ArmError):
    code = "NoRegisteredProviderFound"


class InvalidResourceType(ArmError):
    status = 404
    code = "InvalidResourceType"


class InvalidRequestContent(ArmError):
    code = "InvalidRequestContent"


class UnsupportedMediaType(ArmError):
    status = 415
    code = "UnsupportedMediaType"


class InvalidParameter(ArmError):
    code = "InvalidParameter"


class MissingRequiredProperty(ArmError):
    code = "MissingRequiredProperty"


class SubscriptionNotFound(ArmError):
    status = 404
    code = "SubscriptionNotFound"


class ResourceGroupNotFound(ArmError):
    status = 404
    code = "ResourceGroupNotFound"


class ResourceNotFound(ArmError):
    """ARM's 404 for a resource that does not exist. ARM's own form, "The Resource
    '<type path>' under resource group '<rg>' was not found.", ends with its help link
    (recorded: Azure/azure-cli test_lab_vm.yaml, 2025)."""

    status = 404
    code = "ResourceNotFound"
    HINT: ClassVar[str] = " For more details please go to https://aka.ms/ARMResourceNotFoundFix"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        if message.startswith("The Resource '") and not message.endswith(self.HINT):
            message += self.HINT
        super().__init__(message, headers)


class MethodNotAllowed(ArmError):
    status = 405
    code = "MethodNotAllowed"


class Conflict(ArmError):
    status = 409
    code = "Conflict"


class QuotaExceeded(ArmError):
    status = 409
    code = "QuotaExceeded"


class SubscriptionRequestsThrottled(ArmError):
    status = 429
    code = "SubscriptionRequestsThrottled"


class InternalServerError(ArmError):
    status = 500
    code = "InternalServerError"


class NotImplementedByEmulator(ArmError):
    status = 501
    code = "NotImplemented"


class ServiceUnavailable(ArmError):
    status = 503
    code = "ServiceUnavailable"


class OperationNotFound(ArmError):
    status = 404
    code = "OperationNotFound"


class InvalidTagNameCharacters(ArmError):
    code = "InvalidTagNameCharacters"


class InvalidTagNameLength(ArmError):
    code = "InvalidTagNameLength"


class InvalidTagValueLength(ArmError):
    code = "InvalidTagValueLength"


class InvalidTagCount(ArmError):
    code = "InvalidTagCount"


class InvalidResourceName(ArmError):
    code = "InvalidResourceName"
