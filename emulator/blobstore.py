"""The emulator's own access to Azurite: account-key clients and the SAS URIs it mints.

DevTest Labs and managed disks hand out SAS URIs; the emulator mints them with the
account key, as the services do.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    generate_blob_sas,
)

from emulator.azurite import AzuriteEndpoints, account_key


class BlobStore:
    """Blob operations against Azurite on behalf of the emulated services."""

    def __init__(self, endpoints: AzuriteEndpoints) -> None:
        self.endpoints = endpoints
        self._clients: dict[str, BlobServiceClient] = {}

    def service(self, account: str) -> BlobServiceClient:
        client = self._clients.get(account)
        if client is None:
            client = BlobServiceClient(
                self.endpoints.blob_endpoint(account),
                credential={"account_name": account, "account_key": account_key(account)},
                connection_verify=str(self.endpoints.ca_file),
                retry_total=2,
            )
            self._clients[account] = client
        return client

    def blob_url(self, account: str, container: str, blob: str) -> str:
        return self.service(account).get_blob_client(container, blob).url

    def container_url(self, account: str, container: str) -> str:
        return self.service(account).get_container_client(container).url

    def ensure_container(self, account: str, container: str) -> None:
        with contextlib.suppress(ResourceExistsError):
            self.service(account).create_container(container)

    def read(self, account: str, container: str, blob: str) -> bytes | None:
        try:
            client = self.service(account).get_blob_client(container, blob)
            return client.download_blob().readall()
        except ResourceNotFoundError:
            return None

    def blob_type(self, account: str, container: str, blob: str) -> str | None:
        """`PageBlob`, `BlockBlob` or `AppendBlob`; None when the blob does not exist."""
        try:
            client = self.service(account).get_blob_client(container, blob)
            kind = client.get_blob_properties().blob_type
            return str(getattr(kind, "value", kind))
        except ResourceNotFoundError:
            return None

    def exists(self, account: str, container: str, blob: str) -> bool:
        return bool(self.service(account).get_blob_client(container, blob).exists())

    def write_page_blob(self, account: str, container: str, blob: str, data: bytes) -> None:
        self.ensure_container(account, container)
        client = self.service(account).get_blob_client(container, blob)
        client.upload_blob(data, blob_type="PageBlob", overwrite=True)

    def delete(self, account: str, container: str, blob: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self.service(account).get_blob_client(container, blob).delete_blob()

    def list_names(self, account: str, container: str) -> list[str]:
        try:
            client = self.service(account).get_container_client(container)
            return [item.name for item in client.list_blobs()]
        except ResourceNotFoundError:
            return []

    def blob_read_sas(self, account: str, container: str, blob: str, expiry: dt.datetime) -> str:
        token = generate_blob_sas(
            account_name=account,
            container_name=container,
            blob_name=blob,
            account_key=account_key(account),
            permission=BlobSasPermissions(read=True),
            expiry=expiry,
            start=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        )
        return f"{self.blob_url(account, container, blob)}?{token}"

    def blob_upload_sas(
        self, account: str, container: str, blob: str, start: dt.datetime, expiry: dt.datetime
    ) -> str:
        """Read, create, write on one blob (`sr=b`, `sp=rcw`): what generateUploadUri grants."""
        token = generate_blob_sas(
            account_name=account,
            container_name=container,
            blob_name=blob,
            account_key=account_key(account),
            permission=BlobSasPermissions(read=True, create=True, write=True),
            expiry=expiry,
            start=start,
        )
        return f"{self.blob_url(account, container, blob)}?{token}"
