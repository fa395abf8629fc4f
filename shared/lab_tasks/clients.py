"""The SDK clients a lab task uses, built from the factory's settings.

`IMAGEFACTORY_ARM_ENDPOINT`, `IMAGEFACTORY_CA_BUNDLE` and `IMAGEFACTORY_CREDENTIAL` choose
Azure or the local world; `IMAGEFACTORY_POLL_SECONDS` is how often operations are polled
and `IMAGEFACTORY_TIME_SCALE` multiplies every timeout, as in the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from azure.mgmt.devtestlabs import DevTestLabsClient
from azure.mgmt.resource import ResourceManagementClient

from shared.azure import clients
from shared.azure.labs import Lab
from shared.lab_tasks.errors import LabUsageError
from shared.model.arm_ids import ArmIdError, parse_lab_id
from shared.settings import get_settings


@cache
def resources(subscription: str) -> ResourceManagementClient:
    return ResourceManagementClient(
        clients.credential(),
        subscription.lower(),
        **clients.arm_options(),
    )


@dataclass(frozen=True)
class LabRef(Lab):
    """A lab named on the command line by its resource id, with the clients of its
    subscription (the factory's `Lab`, plus resource-group deployments)."""

    @classmethod
    def parse(cls, value: str) -> LabRef:
        try:
            return cls(parse_lab_id(value))
        except ArmIdError as exc:
            raise LabUsageError(f"--lab: {exc}") from None

    @property
    def dtl(self) -> DevTestLabsClient:
        return clients.devtestlabs(self.id.subscription)

    @property
    def arm(self) -> ResourceManagementClient:
        return resources(self.id.subscription)

    def child(self, collection: str, name: str) -> str:
        return f"{self.id}/{collection}/{name}"


def poll_seconds() -> float:
    return get_settings().poll_seconds


def time_scale() -> float:
    return get_settings().time_scale


def reset() -> None:
    """Forget cached settings and clients (after the settings changed)."""
    clients.reset()
    resources.cache_clear()
