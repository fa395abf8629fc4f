"""Microsoft.Storage URL table."""

from __future__ import annotations

from emulator.http import Route, route
from emulator.storage import responses as r

PROVIDER = "Microsoft.Storage"
API_VERSIONS = (
    "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01",
    "2024-01-01", "2025-01-01", "2025-06-01",
)  # fmt: skip
_ACCOUNT = (
    "/subscriptions/{subscription}/resourceGroups/{resourceGroup}"
    "/providers/Microsoft.Storage/storageAccounts/{name}"
)
T_ACCOUNT = "Microsoft.Storage/storageAccounts"

ROUTES: list[Route] = [
    route("GET", _ACCOUNT, r.get_account, PROVIDER, T_ACCOUNT, f"{T_ACCOUNT}/read"),
]
UNIMPLEMENTED = (("PUT", _ACCOUNT), ("DELETE", _ACCOUNT), ("POST", _ACCOUNT + "/{action}"))
