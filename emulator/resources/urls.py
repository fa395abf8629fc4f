"""Microsoft.Resources URL table: resource groups and resource-group template deployments."""

from __future__ import annotations

from emulator.http import Handler, Route, route
from emulator.resources import responses as r

PROVIDER = "Microsoft.Resources"
# What azure-cli's lab recordings send and what azure-mgmt-resource 23-24 pins.
API_VERSIONS = (
    "2019-05-10", "2019-10-01", "2020-06-01", "2021-04-01", "2022-09-01", "2023-07-01",
    "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
)  # fmt: skip

_SUB = "/subscriptions/{subscription}"
_RG = _SUB + "/resourcegroups/{resourceGroup}"
_DEP = _RG + "/providers/Microsoft.Resources/deployments"
T_RG = "Microsoft.Resources/resourceGroups"
T_DEP = "Microsoft.Resources/deployments"
T_OPS = "Microsoft.Resources/deployments/operations"


def _r(method: str, pattern: str, handler: Handler, rtype: str, action: str) -> Route:
    return route(method, pattern, handler, PROVIDER, rtype, f"{rtype}/{action}")


ROUTES: list[Route] = [
    _r("GET", _RG, r.get_group, T_RG, "read"),
    _r("GET", _RG + "/resources", r.list_group_resources, T_RG, "resources/read"),
    _r("GET", _DEP, r.list_deployments, T_DEP, "read"),
    _r("GET", _DEP + "/{name}", r.get_deployment, T_DEP, "read"),
    _r("PUT", _DEP + "/{name}", r.put_deployment, T_DEP, "write"),
    _r("DELETE", _DEP + "/{name}", r.delete_deployment, T_DEP, "delete"),
    _r("GET", _DEP + "/{name}/operationStatuses/{id}", r.get_deployment_status, T_DEP,
       "operationStatuses/read"),
    _r("GET", _DEP + "/{name}/operations", r.list_deployment_operations, T_OPS, "read"),
    # The spec's path of DeploymentOperations_List, the one azure-mgmt-resource calls.
    _r("GET", _RG + "/deployments/{name}/operations", r.list_deployment_operations, T_OPS,
       "read"),
    _r("GET", _SUB + "/operationresults/{id}", r.get_operation_result, T_DEP,
       "operationResults/read"),
]  # fmt: skip

# Real Microsoft.Resources operations the emulator does not implement: they answer 501.
UNIMPLEMENTED = (
    ("PUT", _RG),
    ("DELETE", _RG),
    ("PATCH", _RG),
    ("POST", _DEP + "/{name}/{action}"),
    ("POST", _RG + "/{action}"),
)
