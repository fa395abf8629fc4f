"""Activities that read: the configuration, each lab, the catalog, gallery versions."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities._scope import run_scoped
from shared import azure_clients, catalog, labs_api
from shared.config import GalleryImage
from shared.config_source import load_config as read_config
from shared.function_names import INVENTORY_CATALOG, INVENTORY_LAB, LOAD_CONFIG, RESOLVE_GALLERY
from shared.git_source import GitSourceError
from shared.payloads import (
    CatalogListing,
    CatalogRequest,
    GalleryRequest,
    LabRef,
    LoadedConfig,
    Pace,
)
from shared.run_request import ConfigSourceRef
from shared.validation import ConfigInvalid

bp = df.Blueprint()


@bp.function_name(LOAD_CONFIG)
@bp.activity_trigger(input_name="payload")
@run_scoped
def load_config(payload: dict[str, Any]) -> dict[str, Any]:
    """The validated configuration, or every problem with it; plus the monitors' pace."""
    settings = azure_clients.settings()
    pace = Pace(poll_seconds=settings.poll_seconds, time_scale=settings.time_scale)
    try:
        factory = read_config(ConfigSourceRef.model_validate(payload))
    except ConfigInvalid as exc:
        problems = [str(p) for p in exc.problems]
        return LoadedConfig(problems=problems, pace=pace).model_dump(mode="json")
    except GitSourceError as exc:
        return LoadedConfig(problems=[str(exc)], pace=pace).model_dump(mode="json")
    return LoadedConfig(factory=factory, pace=pace).model_dump(mode="json")


@bp.function_name(INVENTORY_LAB)
@bp.activity_trigger(input_name="payload")
@run_scoped
def inventory_lab(payload: dict[str, Any]) -> dict[str, Any]:
    return labs_api.inventory(LabRef.model_validate(payload).lab).model_dump(mode="json")


@bp.function_name(INVENTORY_CATALOG)
@bp.activity_trigger(input_name="payload")
@run_scoped
def inventory_catalog(payload: dict[str, Any]) -> dict[str, Any]:
    request = CatalogRequest.model_validate(payload)
    entries = catalog.list_entries(request.factory_lab, request.factory_id)
    return CatalogListing(entries=entries).model_dump(mode="json")


@bp.function_name(RESOLVE_GALLERY)
@bp.activity_trigger(input_name="payload")
@run_scoped
def resolve_gallery(payload: dict[str, Any]) -> dict[str, str]:
    request = GalleryRequest.model_validate(payload)
    wanted = [GalleryImage.model_validate(image) for image in request.images]
    return labs_api.newest_gallery_versions(request.lab, wanted)
