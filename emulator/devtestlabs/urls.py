"""Microsoft.DevTestLab URL table (api-version 2018-09-15)."""

from __future__ import annotations

from emulator.devtestlabs import environment_responses as env
from emulator.devtestlabs import responses as r
from emulator.http import Handler, Route, route

PROVIDER = "Microsoft.DevTestLab"
API_VERSIONS = ("2018-09-15",)

_SUB = "/subscriptions/{subscription}"
_RG = _SUB + "/resourceGroups/{resourceGroup}"
_LABS = _RG + "/providers/Microsoft.DevTestLab/labs"
_LAB = _LABS + "/{lab}"
_VM = _LAB + "/virtualmachines/{name}"
_IMG = _LAB + "/customimages/{name}"
_SRC = _LAB + "/artifactsources/{source}"

T_LAB = "Microsoft.DevTestLab/labs"
T_VM = "Microsoft.DevTestLab/labs/virtualmachines"
T_IMG = "Microsoft.DevTestLab/labs/customimages"
T_GAL = "Microsoft.DevTestLab/labs/galleryimages"
T_SRC = "Microsoft.DevTestLab/labs/artifactsources"
T_ART = "Microsoft.DevTestLab/labs/artifactsources/artifacts"
T_NET = "Microsoft.DevTestLab/labs/virtualnetworks"
T_POL = "Microsoft.DevTestLab/labs/policysets/policies"
T_TPL = "Microsoft.DevTestLab/labs/artifactsources/armtemplates"
T_ENV = "Microsoft.DevTestLab/labs/users/environments"
_ENVS = _LAB + "/users/{user}/environments"


def _r(method: str, pattern: str, handler: Handler, rtype: str, action: str) -> Route:
    return route(method, pattern, handler, PROVIDER, rtype, f"{rtype}/{action}")


ROUTES: list[Route] = [
    _r(
        "GET",
        _SUB + "/providers/Microsoft.DevTestLab/labs",
        r.list_labs_by_subscription,
        T_LAB,
        "read",
    ),
    _r("GET", _LABS, r.list_labs_by_resource_group, T_LAB, "read"),
    _r("GET", _LAB, r.get_lab, T_LAB, "read"),
    _r(
        "POST",
        _LAB + "/generateUploadUri",
        r.generate_upload_uri,
        T_LAB,
        "generateUploadUri/action",
    ),
    _r("POST", _LAB + "/listVhds", r.list_vhds, T_LAB, "listVhds/action"),
    _r("GET", _LAB + "/virtualmachines", r.list_vms, T_VM, "read"),
    _r("GET", _VM, r.get_vm, T_VM, "read"),
    _r("PUT", _VM, r.put_vm, T_VM, "write"),
    _r("PATCH", _VM, r.patch_vm, T_VM, "write"),
    _r("DELETE", _VM, r.delete_vm, T_VM, "delete"),
    _r("POST", _VM + "/applyArtifacts", r.apply_artifacts, T_VM, "applyArtifacts/action"),
    _r("POST", _VM + "/start", r.start_vm, T_VM, "start/action"),
    _r("POST", _VM + "/stop", r.stop_vm, T_VM, "stop/action"),
    _r("GET", _LAB + "/customimages", r.list_images, T_IMG, "read"),
    _r("GET", _IMG, r.get_image, T_IMG, "read"),
    _r("PUT", _IMG, r.put_image, T_IMG, "write"),
    _r("PATCH", _IMG, r.patch_image, T_IMG, "write"),
    _r("DELETE", _IMG, r.delete_image, T_IMG, "delete"),
    _r("GET", _LAB + "/galleryimages", r.list_gallery_images, T_GAL, "read"),
    _r("GET", _LAB + "/virtualnetworks", r.list_networks, T_NET, "read"),
    _r("GET", _LAB + "/virtualnetworks/{name}", r.get_network, T_NET, "read"),
    _r("GET", _LAB + "/policysets/{policySet}/policies", r.list_policies, T_POL, "read"),
    _r("GET", _LAB + "/artifactsources", r.list_sources, T_SRC, "read"),
    _r("GET", _SRC, r.get_source, T_SRC, "read"),
    _r("GET", _SRC + "/artifacts", r.list_artifacts, T_ART, "read"),
    _r("GET", _SRC + "/artifacts/{name}", r.get_artifact, T_ART, "read"),
    _r("GET", _SRC + "/armtemplates", env.list_templates, T_TPL, "read"),
    _r("GET", _SRC + "/armtemplates/{name}", env.get_template, T_TPL, "read"),
    _r("GET", _ENVS, env.list_environments, T_ENV, "read"),
    _r("GET", _ENVS + "/{name}", env.get_environment, T_ENV, "read"),
    _r("PUT", _ENVS + "/{name}", env.put_environment, T_ENV, "write"),
    _r("DELETE", _ENVS + "/{name}", env.delete_environment, T_ENV, "delete"),
]

# Real DevTest Labs operations the emulator does not implement: they answer 501.
UNIMPLEMENTED = (
    ("POST", _VM + "/{action}"),
    ("PUT", _LAB),
    ("DELETE", _LAB),
    ("PATCH", _LAB),
    ("GET", _LAB + "/{collection}"),
    ("GET", _LAB + "/{collection}/{name}"),
    ("PUT", _LAB + "/{collection}/{name}"),
    ("DELETE", _LAB + "/{collection}/{name}"),
    ("PUT", _SRC),
    ("DELETE", _SRC),
)
