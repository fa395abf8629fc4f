"""Custom images in a lab: create from a VHD in its uploads (or adopt), read state, delete."""

from __future__ import annotations

from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.devtestlabs.models import CustomImage, CustomImagePropertiesCustom

from shared.azure import labs
from shared.azure.blobs import blob_url
from shared.azure.labs import Lab
from shared.config.models import OsType
from shared.model import tags
from shared.run.payloads import ImageRequest, ImageStatus


def begin_create_image_from_vhd(spec: ImageRequest) -> str:
    """Start creating a custom image from a VHD in the lab's uploads; adopts our own.

    DevTest Labs names the VHD by its full blob URI in the lab's storage account, and
    `sysPrep` says whether the VHD was generalized (only Windows images are sysprepped).
    """
    lab = Lab.of(spec.lab)
    name, image_tags = spec.name, spec.tags
    try:
        existing = lab.client.custom_images.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        if tags.get(existing.tags, tags.BUILD_ID) == image_tags.get(tags.BUILD_ID):
            return "adopted"
        raise RuntimeError(
            f"a custom image named {name} already exists in lab {lab.name} and is not this "
            "build's; refusing to touch it"
        )
    image = CustomImage(
        tags=image_tags,
        description=spec.note,
        author="image factory",
        vhd=CustomImagePropertiesCustom(
            image_name=blob_url(spec.vhd),
            sys_prep=spec.generalized and spec.os == OsType.WINDOWS,
            os_type=spec.os.value,
        ),
    )
    lab.client.custom_images.begin_create_or_update(lab.group, lab.name, name, image, polling=False)
    return "created"


def image_state(lab_id: str, name: str) -> ImageStatus:
    """`succeeded`, `failed`, `missing`, or the provisioning state while it runs."""
    lab = Lab.of(lab_id)
    try:
        image = lab.client.custom_images.get(lab.group, lab.name, name)
    except ResourceNotFoundError:
        return ImageStatus(state="missing")
    return ImageStatus(state=str(image.provisioning_state or "succeeded").lower())


def begin_delete_image(lab_id: str, name: str, factory_id: str) -> bool:
    """Start deleting a custom image that carries this factory's id. False: already gone."""
    lab = Lab.of(lab_id)
    return labs.begin_delete(
        lab.client.custom_images, lab, name, lambda t: labs.owned_or_refuse(t, factory_id, name)
    )
