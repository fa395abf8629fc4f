"""SDK clients, built once per process from the settings (endpoints, CA bundle, credential).

Production and the local world differ only in settings: the ARM endpoint, the CA bundle
and which credential (DefaultAzureCredential, or the local world's token credential).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from azure.core.credentials import TokenCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.devtestlabs import DevTestLabsClient
from azure.storage.blob import BlobClient, BlobServiceClient, ContainerClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


@cache
def credential() -> TokenCredential:
    if settings().credential == "local":
        from shared.azure.credential import LocalTokenCredential

        return LocalTokenCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _arm_options() -> dict[str, Any]:
    s = settings()
    return {"base_url": s.arm_endpoint, **_tls()}


@cache
def devtestlabs(subscription: str) -> DevTestLabsClient:
    return DevTestLabsClient(credential(), subscription.lower(), **_arm_options())


@cache
def compute(subscription: str) -> ComputeManagementClient:
    return ComputeManagementClient(credential(), subscription.lower(), **_arm_options())


def _tls() -> dict[str, Any]:
    ca = settings().ca_bundle
    return {"connection_verify": ca} if ca else {}


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
    setting = settings().queue_connection
    # Base64, as the Functions queue trigger expects by default.
    options: dict[str, Any] = {"message_encode_policy": TextBase64EncodePolicy(), **_tls()}
    connection = env.get(setting)
    if connection:
        return QueueClient.from_connection_string(connection, name, **options)
    service = env.get(f"{setting}__queueServiceUri")
    if not service:
        raise RuntimeError(f"no storage connection: set {setting} or {setting}__queueServiceUri")
    return QueueClient(service, name, credential=credential(), **options)


def reset() -> None:
    """Forget the cached settings, credential and clients (after the settings change)."""
    for cached in (settings, credential, devtestlabs, compute):
        cached.cache_clear()
