"""Microsoft.Resources state: template deployments and the resources they put into a
resource group, as the world keeps them. The rules are in `models`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel


class DeployedResource(BaseModel):
    """A resource a deployment put into a resource group, of a provider not modelled here."""

    id: str
    name: str
    type: str
    location: str | None = None
    tags: dict[str, str] = {}
    deployment: str


class DeploymentOperationState(BaseModel):
    """One resource a deployment creates, as `deployments/{name}/operations` lists it."""

    operation_id: str
    resource_id: str
    resource_type: str
    resource_name: str
    provisioning_state: Literal["Running", "Succeeded", "Failed"] = "Running"
    status_code: str | None = None
    status_message: dict[str, Any] | None = None
    timestamp: dt.datetime
    inner_operation: str | None = None
    record: DeployedResource | None = None


class Deployment(BaseModel):
    id: str
    name: str
    subscription: str
    resource_group: str
    mode: str
    template: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    template_hash: str
    correlation_id: str
    provisioning_state: Literal["Accepted", "Running", "Succeeded", "Failed", "Deleting"] = (
        "Accepted"
    )
    started: dt.datetime
    ended: dt.datetime | None = None
    ready_at: dt.datetime
    outputs: dict[str, dict[str, Any]] | None = None
    output_error: tuple[str, str] | None = None
    planned_failure: tuple[str, str] | None = None
    error: dict[str, Any] | None = None
    operations: list[DeploymentOperationState] = []
    operation_id: str
    delete_at: dt.datetime | None = None
    delete_operation_id: str | None = None

    @property
    def running(self) -> bool:
        return self.provisioning_state in ("Accepted", "Running")
