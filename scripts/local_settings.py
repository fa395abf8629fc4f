"""The Function App's settings in a local world: one place for what `make run` and the
tests give the app to reach the emulator, Azurite and their CA.

    values = app_settings(info, poll_seconds=0.5, time_scale=1 / 60)
    DevHostProcess(root, values={**values, "DEVHOST_FUNCTION_KEY": key}, ...)

Where the configuration is read from and the keys are the caller's to add.
"""

from __future__ import annotations

from pathlib import Path

from emulator.azurite import DEFAULT_ACCOUNT, AzuriteEndpoints
from emulator.runner import WorldInfo

SCHEDULE = "0 0 2 * * *"  # the timer must parse; the local world fires it by hand


def storage_connection(info: WorldInfo) -> str:
    """The Functions storage (`AzureWebJobsStorage`): the development account of the
    world's Azurite, which always serves it."""
    endpoints = AzuriteEndpoints(
        blob_port=info.blob_port,
        queue_port=info.queue_port,
        table_port=info.table_port,
        ca_file=Path(info.ca_file),
        accounts=tuple(info.storage_accounts),
    )
    return endpoints.connection_string(DEFAULT_ACCOUNT)


def world_settings(info: WorldInfo, *, poll_seconds: float) -> dict[str, str]:
    """What the factory's code needs to reach the world: ARM, the CA, the blob endpoint,
    the local credential, and how often to poll."""
    return {
        "IMAGEFACTORY_ARM_ENDPOINT": info.endpoint,
        "IMAGEFACTORY_CA_BUNDLE": info.ca_file,
        "IMAGEFACTORY_BLOB_ENDPOINT": f"https://127.0.0.1:{info.blob_port}/{{account}}",
        "IMAGEFACTORY_CREDENTIAL": "local",
        "IMAGEFACTORY_POLL_SECONDS": str(poll_seconds),
    }


def app_settings(info: WorldInfo, *, poll_seconds: float, time_scale: float) -> dict[str, str]:
    """The Function App's settings under devhost in the world: its Functions storage,
    the CA devhost's queue clients trust, the world, its timeouts' scale and schedule."""
    return {
        "AzureWebJobsStorage": storage_connection(info),
        "DEVHOST_CA_BUNDLE": info.ca_file,
        **world_settings(info, poll_seconds=poll_seconds),
        "IMAGEFACTORY_TIME_SCALE": str(time_scale),
        "IMAGEFACTORY_SCHEDULE": SCHEDULE,
    }
