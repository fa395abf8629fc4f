"""Azurite started by the session fixture serves blobs and queues over HTTPS."""

from __future__ import annotations

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from emulator.azurite import AzuriteEndpoints
from shared.azure.credential import LocalTokenCredential


def test_queue_round_trip_with_connection_string(azurite: AzuriteEndpoints) -> None:
    service = QueueServiceClient.from_connection_string(
        azurite.connection_string(), connection_verify=str(azurite.ca_file)
    )
    queue = service.get_queue_client("fixture-check")
    queue.create_queue()
    queue.send_message("hello")
    assert [m.content for m in queue.receive_messages()] == ["hello"]


def test_blob_access_with_local_bearer_token(azurite: AzuriteEndpoints) -> None:
    service = BlobServiceClient(
        azurite.blob_endpoint(),
        credential=LocalTokenCredential(),
        connection_verify=str(azurite.ca_file),
    )
    blob = service.get_container_client("token-check")
    blob.create_container()
    blob.upload_blob("a.txt", b"payload")
    assert blob.download_blob("a.txt").readall() == b"payload"
