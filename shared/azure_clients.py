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
from azure.storage.blob import BlobClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from shared.settings import Settings, load_settings


@cache
def settings() -> Settings:
    return load_settings()


@cache
def credential() -> TokenCredential:
    if settings().credential == "local":
        from shared.local_credential import LocalTokenCredential

        return LocalTokenCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _arm_options() -> dict[str, Any]:
    s = settings()
    options: dict[str, Any] = {"base_url": s.arm_endpoint}
    if s.ca_bundle:
        options["connection_verify"] = s.ca_bundle
    return options


@cache
def devtestlabs(subscription: str) -> DevTestLabsClient:
    return DevTestLabsClient(credential(), subscription.lower(), **_arm_options())


@cache
def compute(subscription: str) -> ComputeManagementClient:
    return ComputeManagementClient(credential(), subscription.lower(), **_arm_options())


def blob(sas_url: str) -> BlobClient:
    """A blob addressed by a SAS URL (from generateUploadUri or a disk grant)."""
    options: dict[str, Any] = {}
    if settings().ca_bundle:
        options["connection_verify"] = settings().ca_bundle
    return BlobClient.from_blob_url(sas_url, **options)


def blob_with_token(url: str) -> BlobClient:
    """A blob addressed by its plain URL, authorised by the factory's own identity."""
    options: dict[str, Any] = {}
    if settings().ca_bundle:
        options["connection_verify"] = settings().ca_bundle
    return BlobClient.from_blob_url(url, credential=credential(), **options)


def queue(name: str) -> QueueClient:
    """A queue on the Functions storage connection (connection string or queue service URI)."""
    env = os.environ
    setting = settings().queue_connection
    # Base64, as the Functions queue trigger expects by default.
    options: dict[str, Any] = {"message_encode_policy": TextBase64EncodePolicy()}
    if settings().ca_bundle:
        options["connection_verify"] = settings().ca_bundle
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
