"""The live inventory outside a run: what `imagefactory inventory`, `report --live` and
`GET /api/report` read, through the adapters the inventory activities call.

Only reads (GETs and lists): every lab the configuration names, the catalog and the
gallery's newest versions. A lab that cannot be read (refused, or not reachable at all) is
marked with why in its entry, as a run's inventory marks it, so a plan from it leaves that
lab alone; the catalog cannot be marked so, and a catalog that cannot be read is an error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import AzureError, HttpResponseError

from shared.azure import catalog, labs
from shared.azure.errors import reason
from shared.config.models import Factory
from shared.model.text import first_line
from shared.planning.inventory import Inventory, LabInventory

READERS = 8  # labs read at once


class CatalogUnreadable(Exception):
    """The factory lab's catalog cannot be listed: without it every image looks unbuilt."""


def _why(exc: AzureError) -> str:
    return reason(exc) if isinstance(exc, HttpResponseError) else first_line(str(exc))


def read_lab(lab_id: str) -> LabInventory:
    """One lab's images and VMs; a lab that cannot be reached reports why, as a refusal does."""
    try:
        return labs.inventory(lab_id)
    except AzureError as exc:
        return LabInventory(lab=lab_id, error=f"cannot reach the lab: {_why(exc)}")


def read_inventory(factory: Factory) -> Inventory:
    """The inventory a run of `factory` would read now. Which runs own build VMs is not
    asked (that is Durable's to say), so every unexpired build VM counts as another run's
    work in progress (`active_runs` unknown)."""
    settings = factory.settings
    lab_ids = factory.lab_ids()
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        found = list(pool.map(read_lab, lab_ids))
    try:
        entries = catalog.list_entries(settings.factory_lab, settings.factory_id)
    except AzureError as exc:
        raise CatalogUnreadable(
            f"cannot read the catalog of the factory lab {settings.factory_lab}: {_why(exc)}"
        ) from exc
    bases = factory.gallery_bases()
    gallery: dict[str, str] = {}
    if bases:
        try:
            gallery = labs.newest_gallery_versions(settings.factory_lab, bases)
        except AzureError:
            gallery = {}  # the factory lab's own entry already says why it cannot be read
    return Inventory(labs=found, catalog=entries, gallery=gallery)
