"""ARM write accounting under the real semantics of the services the factory calls.

Every PUT, PATCH, DELETE and POST action counts against a subscription's write budget,
`generateUploadUri` included (in Azure it returns a SAS for one blob, so each blob reached
through an upload URI costs one). The minimum a plan needs, per item:

- a build: create the VM (PUT), deallocate it (DevTest Labs' stop, POST), grant and revoke
  read access to its OS disk (two POSTs), delete the VM (DELETE); with a test gate also the
  gate image (PUT, DELETE) and the test VM (PUT, DELETE). The catalog copy and its label
  are data-plane writes with the factory's identity: no ARM write.
- a distribution: the upload URI of the copy in the target lab (POST) and the custom image
  (PUT); into the factory lab only the custom image (its storage is the factory's).
- a retirement or a clean-up: one DELETE.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.config.models import Factory
from shared.planning.plan import Plan

WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
BUILD_WRITES = 5
GATE_WRITES = 4


def arm_writes(counts: dict[str, Any]) -> int:
    """Writes in the emulator's request counts (`GET /_admin/requests`)."""
    return sum(n for method, n in counts["byMethod"].items() if method in WRITE_METHODS)


def minimum_writes(plan: Plan, factory: Factory) -> int:
    factory_lab = factory.settings.factory_lab.lower()
    total = 0
    for build in plan.builds:
        gated = bool(factory.images[build.family].test_artifacts)
        total += BUILD_WRITES + (GATE_WRITES if gated else 0)
    for dist in plan.distributions:
        total += 1 if dist.lab.lower() == factory_lab else 2
    return total + len(plan.retirements) + len(plan.cleanups)


def request_counts(endpoint: str, ca_file: str) -> dict[str, Any]:
    return dict(requests.get(f"{endpoint}/_admin/requests", verify=ca_file, timeout=30).json())


def reset_counts(endpoint: str, ca_file: str) -> None:
    requests.delete(f"{endpoint}/_admin/requests", verify=ca_file, timeout=30)
