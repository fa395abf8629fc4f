"""The codes an ARM error body holds, and which of them mean Azure had no room for a VM:
a deployment's failure wraps its cause in `details`, so the cause is found there."""

from __future__ import annotations

from typing import Any

import pytest

from shared.azure.errors import error_codes
from shared.planning.capacity import for_want_of_room

# The shape DevTest Labs gives a failed VM deployment (MicrosoftDocs/azure-docs#58344),
# with Compute's quota error as its cause.
DEPLOYMENT_FAILED = {
    "code": "ResourceDeploymentFailure",
    "message": "The resource operation completed with terminal provisioning state 'Failed'.",
    "details": [
        {
            "code": "QuotaExceeded",
            "message": "Operation could not be completed as it results in exceeding approved "
            "Total Regional Cores quota.",
        }
    ],
}


@pytest.mark.parametrize(
    ("error", "codes", "no_room"),
    [
        (DEPLOYMENT_FAILED, ["ResourceDeploymentFailure", "QuotaExceeded"], True),
        (
            {"code": "OperationNotAllowed", "message": "exceeding approved quota"},
            ["OperationNotAllowed"],
            True,
        ),
        (
            {
                "code": "DeploymentFailed",
                "details": [{"code": "Conflict", "details": [{"code": "PolicyViolation"}]}],
            },
            ["DeploymentFailed", "Conflict", "PolicyViolation"],
            True,
        ),
        ({"code": "AllocationFailed", "message": "no capacity"}, ["AllocationFailed"], False),
        (
            {"code": "ResourceDeploymentFailure", "details": "not a list"},
            ["ResourceDeploymentFailure"],
            False,
        ),
        ({"message": "no code"}, [], False),
        (None, [], False),
    ],
)
def test_the_codes_of_an_error_and_whether_they_mean_no_room(
    error: Any, codes: list[str], no_room: bool
) -> None:
    assert error_codes(error) == codes
    assert for_want_of_room(error_codes(error)) is no_room
