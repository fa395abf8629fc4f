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
_ENV = _ENVS + "/{name}"


def _r(method: str, pattern: str, handler: Handler, rtype: str, action: str) -> Route:
    return route(method, pattern, handler, PROVIDER, rtype, f"{rtype}/{action}")


def _resource(
    pattern: str,
    rtype: str,
    *,
    get: Handler,
    put: Handler,
    patch: Handler | None = None,
    delete: Handler,
) -> list[Route]:
    """A lab child resource's rows, each verb with the ARM action it takes: GET reads,
    PUT and PATCH write, DELETE deletes."""
    verbs = (
        ("GET", get, "read"),
        ("PUT", put, "write"),
        ("PATCH", patch, "write"),
        ("DELETE", delete, "delete"),
    )
    return [_r(method, pattern, h, rtype, action) for method, h, action in verbs if h is not None]


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
    *_resource(_VM, T_VM, get=r.get_vm, put=r.put_vm, patch=r.patch_vm, delete=r.delete_vm),
    _r("POST", _VM + "/applyArtifacts", r.apply_artifacts, T_VM, "applyArtifacts/action"),
    _r("POST", _VM + "/start", r.start_vm, T_VM, "start/action"),
    _r("POST", _VM + "/stop", r.stop_vm, T_VM, "stop/action"),
    _r("GET", _LAB + "/customimages", r.list_images, T_IMG, "read"),
    *_resource(
        _IMG, T_IMG, get=r.get_image, put=r.put_image, patch=r.patch_image, delete=r.delete_image
    ),
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
    *_resource(
        _ENV, T_ENV, get=env.get_environment, put=env.put_environment, delete=env.delete_environment
    ),
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
