"""Names from the default scenario used by the emulator tests."""

from __future__ import annotations

from typing import NamedTuple

SUB1 = "3f2a9c41-5b7e-4d08-9a61-2c4e8b7d1f05"
SUB2 = "8c5d1e72-9f30-4a6b-b1d4-7e2f6a9c3b18"


class Lab(NamedTuple):
    subscription: str
    group: str
    name: str


# The labs of the default scenario.
FACTORY = Lab(SUB1, "rg-imagefactory", "factory-lab")
ALPHA = Lab(SUB1, "rg-devtest-weu", "team-alpha")
BRAVO = Lab(SUB2, "rg-devtest-eus", "team-bravo")

WINDOWS_2019 = {
    "publisher": "MicrosoftWindowsServer",
    "offer": "WindowsServer",
    "sku": "2019-Datacenter",
    "osType": "Windows",
    "version": "latest",
}
UBUNTU_2204 = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "osType": "Linux",
    "version": "22.04.202411010",
}


def lab_id(subscription: str, group: str, lab: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.DevTestLab/labs/{lab}"
    )


def artifact(lab: Lab, name: str, **parameters: str) -> dict[str, object]:
    """An artifact install entry for a VM body, from the lab's public repo."""
    return {
        "artifactId": f"{lab_id(*lab)}/artifactSources/public repo/artifacts/{name}",
        "parameters": [{"name": k, "value": v} for k, v in parameters.items()],
    }


def lab_network(lab: Lab) -> dict[str, str]:
    """The network properties a VM in `lab` names: the lab's network `Dtl<lab>` and subnet."""
    subscription, group, name = lab
    return {
        "labVirtualNetworkId": f"{lab_id(subscription, group, name)}/virtualnetworks/Dtl{name}",
        "labSubnetName": f"Dtl{name}Subnet",
    }


def vm_body(
    lab: Lab,
    image: dict[str, str] | None = None,
    artifacts: list[dict[str, object]] | None = None,
    custom_image_id: str | None = None,
    size: str = "Standard_D2s_v3",
    tags: dict[str, str] | None = None,
) -> dict[str, object]:
    props: dict[str, object] = {
        "size": size,
        "userName": "builder",
        "password": "Local-Only-Passw0rd!",
        "artifacts": artifacts or [],
        **lab_network(lab),
    }
    if custom_image_id:
        props["customImageId"] = custom_image_id
    else:
        props["galleryImageReference"] = image or WINDOWS_2019
    return {"tags": tags or {}, "properties": props}
