"""SDK clients, built once per process from the settings (endpoints, CA bundle, credential).

Production and the local world differ only in settings: the ARM endpoint, the CA bundle
and which credential (DefaultAzureCredential, or the local world's token credential).
"""

from __future__ import annotations

import contextlib
import os
from functools import cache
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceExistsError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.devtestlabs import DevTestLabsClient
from azure.storage.blob import BlobClient, BlobServiceClient, ContainerClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.settings import get_settings, reset_settings


@cache
def credential() -> TokenCredential:
    if get_settings().credential == "local":
        from shared.azure.credential import LocalTokenCredential

        return LocalTokenCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def arm_options() -> dict[str, Any]:
    """What every management client takes: the ARM endpoint and the CA bundle."""
    return {"base_url": get_settings().arm_endpoint, **_tls()}


@cache
def devtestlabs(subscription: str) -> DevTestLabsClient:
    return DevTestLabsClient(credential(), subscription.lower(), **arm_options())


@cache
def compute(subscription: str) -> ComputeManagementClient:
    return ComputeManagementClient(credential(), subscription.lower(), **arm_options())


def tls_options(ca_bundle: str | None) -> dict[str, Any]:
    """The one way an SDK client is told to trust the CA bundle (the local world's)."""
    return {"connection_verify": ca_bundle} if ca_bundle else {}


def _tls() -> dict[str, Any]:
    return tls_options(get_settings().ca_bundle)


def blob(sas_url: str) -> BlobClient:
    """A blob addressed by a SAS URL (from generateUploadUri or a disk grant)."""
    return BlobClient.from_blob_url(sas_url, **_tls())


def blob_with_token(url: str) -> BlobClient:
    """A blob addressed by its plain URL, authorised by the factory's own identity."""
    return BlobClient.from_blob_url(url, credential=credential(), **_tls())


def container_with_token(url: str) -> ContainerClient:
    """A container addressed by its plain URL, authorised by the factory's own identity."""
    return ContainerClient.from_container_url(url, credential=credential(), **_tls())


def blob_service_with_token(account_url: str) -> BlobServiceClient:
    return BlobServiceClient(account_url, credential=credential(), **_tls())


def queue(name: str) -> QueueClient:
    """A queue on the Functions storage connection (connection string or queue service URI)."""
    env = os.environ
    setting = get_settings().queue_connection
    # Base64, as the Functions queue trigger expects by default.
    options: dict[str, Any] = {"message_encode_policy": TextBase64EncodePolicy(), **_tls()}
    connection = env.get(setting)
    if connection:
        return QueueClient.from_connection_string(connection, name, **options)
    service = env.get(f"{setting}__queueServiceUri")
    if not service:
        raise RuntimeError(f"no storage connection: set {setting} or {setting}__queueServiceUri")
    return QueueClient(service, name, credential=credential(), **options)


def existing_queue(name: str) -> QueueClient:
    """`queue(name)`, created if it is not there yet (a fresh storage account has none)."""
    client = queue(name)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    return client


def reset() -> None:
    """Forget the cached settings, credential and clients (after the settings change)."""
    reset_settings()
    for cached in (credential, devtestlabs, compute):
        cached.cache_clear()
