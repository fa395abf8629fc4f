"""Listing the catalog: the factory lab's uploads container, read with the factory's identity."""

from __future__ import annotations

from shared.azure import blobs
from shared.model import naming
from shared.planning.catalog import entry
from shared.planning.inventory import CatalogEntry


def list_entries(factory_lab: str, factory_id: str) -> list[CatalogEntry]:
    """Every complete catalog entry of this factory (an unfinished capture has no metadata),
    read with the factory's own identity: no ARM request at all."""
    entries = []
    for blob in blobs.list_catalog(factory_lab, naming.CATALOG_PREFIX):
        found = entry(blob.metadata, factory_id) if blob.metadata else None
        if found is not None and blob.name == naming.catalog_blob_name(found.family, found.version):
            entries.append(found)
    return sorted(entries, key=lambda e: (e.family, e.version))
