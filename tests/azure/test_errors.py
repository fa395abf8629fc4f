"""The errors an ARM error body nests, and which of them mean Azure had no room for a VM:
a deployment's failure wraps its cause in `details`, or as a JSON error body in a
detail's message, so the cause is found there."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.azure.errors import nested_errors
from shared.planning.capacity import for_want_of_room

QUOTA = (
    "Operation could not be completed as it results in exceeding approved Total Regional "
    "Cores quota. Additional details - Deployment Model: Resource Manager, Location: "
    "westeurope, Current Limit: 4, Current Usage: 4, Additional Required: 2, (Minimum) New "
    "Limit Required: 6."
)
# The shape DevTest Labs gives a failed VM deployment (MicrosoftDocs/azure-docs#58344),
# with Compute's quota error as its cause.
DEPLOYMENT_FAILED = {
    "code": "ResourceDeploymentFailure",
    "message": "The resource operation completed with terminal provisioning state 'Failed'.",
    "details": [{"code": "QuotaExceeded", "message": QUOTA}],
}
# ARM's deployment failure whose detail's message is itself an error body (the failed
# deployment poll of azure-cli's test_lab_environment_mgmt recording has this shape).
AS_JSON = {
    "code": "DeploymentFailed",
    "message": "At least one resource deployment operation failed.",
    "details": [
        {
            "code": "Conflict",
            "message": json.dumps({"error": {"code": "OperationNotAllowed", "message": QUOTA}}),
        }
    ],
}


@pytest.mark.parametrize(
    ("error", "codes", "no_room"),
    [
        (DEPLOYMENT_FAILED, ["ResourceDeploymentFailure", "QuotaExceeded"], True),
        (AS_JSON, ["DeploymentFailed", "Conflict", "OperationNotAllowed"], True),
        ({"code": "OperationNotAllowed", "message": QUOTA}, ["OperationNotAllowed"], True),
        (
            {"code": "OperationNotAllowed", "message": "The VM is marked for deletion."},
            ["OperationNotAllowed"],
            False,
        ),
        (
            {"code": "DeploymentFailed", "details": [{"code": "PolicyViolation"}]},
            ["DeploymentFailed", "PolicyViolation"],
            True,
        ),
        ({"code": "AllocationFailed", "message": "no capacity"}, ["AllocationFailed"], False),
        (
            {"code": "ResourceDeploymentFailure", "details": "not a list"},
            ["ResourceDeploymentFailure"],
            False,
        ),
        ({"code": "BadRequest", "message": "{not json"}, ["BadRequest"], False),
        ({"message": "no code"}, [], False),
        (None, [], False),
    ],
)
def test_the_errors_nested_in_an_error_and_whether_they_mean_no_room(
    error: Any, codes: list[str], no_room: bool
) -> None:
    found = nested_errors(error)
    assert [code for code, _ in found] == codes
    assert any(for_want_of_room(code, message) for code, message in found) is no_room
