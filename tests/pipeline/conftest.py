"""Session fixtures: the example factory's local world (emulator + Azurite)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.mgmt.devtestlabs import DevTestLabsClient
from azure.mgmt.devtestlabs.models import GalleryImageReference, LabVirtualMachine
from azure.storage.blob import BlobClient

from emulator.runner import LocalWorld, WorldInfo
from scripts.local_settings import storage_connection
from shared.azure import clients
from shared.azure.credential import LocalTokenCredential
from shared.model.arm_ids import parse_lab_id
from tests.pipeline.world import FactoryHost, start_world


@dataclass
class World:
    runner: LocalWorld
    info: WorldInfo

    @property
    def queue_connection(self) -> str:
        return storage_connection(self.info)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method,
            f"{self.info.endpoint}/_admin/{path}",
            json=body,
            verify=self.info.ca_file,
            timeout=30,
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def upload_vhd(
        self, lab_id: str, blob: str, os_type: str, metadata: dict[str, str] | None = None
    ) -> str:
        """Upload a small emulated VHD through the lab's upload URI, as a person would;
        returns its blob URI (what a custom image from a VHD names)."""
        lab = parse_lab_id(lab_id)
        client = self.devtestlabs(lab.subscription)
        upload = client.labs.generate_upload_uri(lab.resource_group, lab.name, blob_name=blob)
        url = str(upload.upload_uri)
        BlobClient.from_blob_url(url, connection_verify=self.info.ca_file).upload_blob(
            f"EMULATED-VHD/1\nos-type: {os_type}\nsize-gb: 1\n".encode().ljust(512, b"\0"),
            overwrite=True,
            blob_type="PageBlob",
            metadata=metadata,
        )
        return url.split("?", 1)[0]

    def lab_network(self, lab_id: str) -> tuple[str, str]:
        """The lab's virtual network id and the first subnet that allows VM creation."""
        lab = parse_lab_id(lab_id)
        client = self.devtestlabs(lab.subscription)
        for network in client.virtual_networks.list(lab.resource_group, lab.name):
            for subnet in network.subnet_overrides or []:
                if (subnet.use_in_vm_creation_permission or "").lower() == "allow":
                    return str(network.id), str(subnet.lab_subnet_name)
        raise AssertionError(f"lab {lab_id} has no subnet for VMs")

    def make_vm(self, lab_id: str, name: str, vm_tags: dict[str, str]) -> None:
        """A Linux lab VM made as a person would, in the lab's network, with these tags."""
        lab = parse_lab_id(lab_id)
        network, subnet = self.lab_network(lab_id)
        self.devtestlabs(lab.subscription).virtual_machines.begin_create_or_update(
            lab.resource_group,
            lab.name,
            name,
            LabVirtualMachine(
                location="westeurope",
                tags=vm_tags,
                lab_virtual_network_id=network,
                lab_subnet_name=subnet,
                size="Standard_D2s_v5",
                user_name="someone",
                password="Not-a-real-one-42",
                gallery_image_reference=GalleryImageReference(
                    publisher="Canonical",
                    offer="0001-com-ubuntu-server-jammy",
                    sku="22_04-lts-gen2",
                    os_type="Linux",
                    version="latest",
                ),
            ),
            polling_interval=0,
        ).result()

    def devtestlabs(self, subscription: str) -> DevTestLabsClient:
        return DevTestLabsClient(
            LocalTokenCredential(),
            subscription,
            base_url=self.info.endpoint,
            connection_verify=self.info.ca_file,
            polling_interval=0,
        )


@contextmanager
def world_at(path: Path) -> Iterator[World]:
    """A local world (emulator + Azurite) under path, stopped on leaving."""
    runner, info = start_world(path)
    try:
        yield World(runner, info)
    finally:
        runner.stop()


@pytest.fixture(scope="session")
def example_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_at(tmp_path_factory.mktemp("example-world")) as world:
        yield world


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[World]:
    """A world of its own, for tests that inject faults or kill processes."""
    with world_at(tmp_path / "world") as world:
        yield world


@contextmanager
def factory_settings_for(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The factory's own settings point at this world (as app settings would), so a test
    reads it through the factory's adapters."""
    monkeypatch.setenv("IMAGEFACTORY_ARM_ENDPOINT", world.info.endpoint)
    monkeypatch.setenv("IMAGEFACTORY_CA_BUNDLE", world.info.ca_file)
    monkeypatch.setenv(
        "IMAGEFACTORY_BLOB_ENDPOINT", f"https://127.0.0.1:{world.info.blob_port}/{{account}}"
    )
    monkeypatch.setenv("IMAGEFACTORY_CREDENTIAL", "local")
    clients.reset()
    try:
        yield world
    finally:
        clients.reset()


def git_host(
    world: World, work: Path, repository: Path, extra: Mapping[str, str] | None = None
) -> FactoryHost:
    """A host (not started) whose configuration is the Git repository at repository."""
    values = {"IMAGEFACTORY_CONFIG_SOURCE": "git", "IMAGEFACTORY_CONFIG_LOCATION": str(repository)}
    return FactoryHost(world.info, world.queue_connection, work, values={**values, **(extra or {})})


def completed_run(host: FactoryHost, **options: Any) -> dict[str, Any]:
    """Start host, run the factory once with options, stop host; the run's status, which
    must be Completed."""
    host.start()
    try:
        status = host.wait_run(host.start_run(**options))
    finally:
        host.stop()
    assert status["status"] == "Completed", (status, host.log_tail())
    return status
