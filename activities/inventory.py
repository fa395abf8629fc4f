"""Activities that read: the configuration, each lab, the catalog, gallery versions."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities._scope import activity, run_scoped
from shared.azure import catalog, labs, limits
from shared.config.loading import ConfigInvalid
from shared.function_names import (
    INVENTORY_CAPACITY,
    INVENTORY_CATALOG,
    INVENTORY_LAB,
    LOAD_CONFIG,
    RESOLVE_GALLERY,
    RUN_STATUSES,
)
from shared.git.config_source import load_config as read_config
from shared.git.source import GitSourceError
from shared.planning.capacity import Capacity
from shared.planning.inventory import LabInventory
from shared.run.payloads import (
    ActiveRuns,
    CapacityRequest,
    CatalogListing,
    CatalogRequest,
    GalleryRequest,
    LabRef,
    LoadedConfig,
    MonitorTiming,
    RunStatusRequest,
)
from shared.run.request import GOING, ConfigSourceRef
from shared.settings import get_settings

bp = df.Blueprint()


@activity(bp, LOAD_CONFIG)
def load_config(source: ConfigSourceRef) -> LoadedConfig:
    """The validated configuration, or every problem with it; plus the monitors' pace."""
    settings = get_settings()
    pace = MonitorTiming(poll_seconds=settings.poll_seconds, time_scale=settings.time_scale)
    try:
        factory = read_config(source)
    except ConfigInvalid as exc:
        problems = [str(p) for p in exc.problems]
        return LoadedConfig(problems=problems, pace=pace)
    except GitSourceError as exc:
        return LoadedConfig(problems=[str(exc)], pace=pace)
    return LoadedConfig(factory=factory, pace=pace)


@activity(bp, INVENTORY_LAB)
def inventory_lab(ref: LabRef) -> LabInventory:
    return labs.inventory(ref.lab)


@activity(bp, INVENTORY_CATALOG)
def inventory_catalog(request: CatalogRequest) -> CatalogListing:
    entries = catalog.list_entries(request.factory_lab, request.factory_id)
    return CatalogListing(entries=entries)


@activity(bp, INVENTORY_CAPACITY)
def inventory_capacity(request: CapacityRequest) -> Capacity:
    """The factory lab's VM policy, its region's vCPU quota and the build sizes' vCPUs."""
    return limits.read_capacity(request.factory_lab, request.vm_sizes)


@activity(bp, RESOLVE_GALLERY)
def resolve_gallery(request: GalleryRequest) -> dict[str, str]:
    return labs.newest_gallery_versions(request.lab, request.images)


@bp.function_name(RUN_STATUSES)
@bp.activity_trigger(input_name="payload")
@bp.durable_client_input(client_name="client")
@run_scoped
async def run_statuses(
    payload: dict[str, Any], client: df.DurableOrchestrationClient
) -> dict[str, Any]:
    """Which of these runs are still going: a build VM is another run's work in progress
    only while its run goes (a failed or finished run's VM is an orphan to clean up now)."""
    request = RunStatusRequest.model_validate(payload)
    going = []
    for run_id in request.run_ids:
        status = await client.get_status(run_id)
        runtime = getattr(status.runtime_status, "name", None) if status else None
        if runtime in GOING:
            going.append(run_id)
    return ActiveRuns(run_ids=going).model_dump()
