"""Microsoft.Compute URL table."""

from __future__ import annotations

from emulator.compute import responses as r
from emulator.compute import usage
from emulator.http import Route, route

PROVIDER = "Microsoft.Compute"
# What azure-mgmt-compute releases of the last years send, and the versions the SDK pins.
API_VERSIONS = (
    "2021-07-01", "2022-03-01", "2022-03-02", "2022-08-01", "2022-11-01", "2023-03-01",
    "2023-04-02", "2023-07-01", "2023-09-01", "2023-10-02", "2024-03-01", "2024-03-02",
    "2024-07-01", "2024-11-01", "2025-01-02", "2025-04-01", "2025-11-01", "2026-03-02",
    "2026-03-03", "2026-04-01",
)  # fmt: skip

_RG = "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.Compute"
_VM = _RG + "/virtualMachines/{name}"
_DISK = _RG + "/disks/{name}"
_IMG = (
    "/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}"
    "/publishers/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions"
)
_LOC = "/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}"
T_VM = "Microsoft.Compute/virtualMachines"
T_DISK = "Microsoft.Compute/disks"
T_IMG = "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions"

ROUTES: list[Route] = [
    route("GET", _VM, r.get_vm, PROVIDER, T_VM, f"{T_VM}/read"),
    route("GET", _VM + "/instanceView", r.get_instance_view, PROVIDER, T_VM, f"{T_VM}/read"),
    route("GET", _DISK, r.get_disk, PROVIDER, T_DISK, f"{T_DISK}/read"),
    route("POST", _DISK + "/beginGetAccess", r.grant_access, PROVIDER, T_DISK,
          f"{T_DISK}/beginGetAccess/action"),
    route("POST", _DISK + "/endGetAccess", r.revoke_access, PROVIDER, T_DISK,
          f"{T_DISK}/endGetAccess/action"),
    route("GET", _IMG, r.list_image_versions, PROVIDER, T_IMG, f"{T_IMG}/read"),
    route("GET", _IMG + "/{version}", r.get_image_version, PROVIDER, T_IMG, f"{T_IMG}/read"),
    route("GET", _LOC + "/usages", usage.list_usages, PROVIDER,
          "Microsoft.Compute/locations/usages", "Microsoft.Compute/locations/usages/read"),
    route("GET", _LOC + "/vmSizes", usage.list_vm_sizes, PROVIDER,
          "Microsoft.Compute/locations/vmSizes", "Microsoft.Compute/locations/vmSizes/read"),
    route("GET", "/subscriptions/{subscription}/providers/Microsoft.Compute/skus",
          usage.list_skus, PROVIDER, "Microsoft.Compute/skus", "Microsoft.Compute/skus/read"),
]  # fmt: skip

UNIMPLEMENTED = (
    ("PUT", _VM),
    ("DELETE", _VM),
    ("PATCH", _VM),
    ("POST", _VM + "/{action}"),
    ("PUT", _DISK),
    ("DELETE", _DISK),
    ("PATCH", _DISK),
)
