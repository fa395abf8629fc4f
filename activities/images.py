"""Activities for custom images: create from a VHD (or adopt), read status, delete."""

from __future__ import annotations

import azure.durable_functions as df

from activities._scope import activity
from shared.azure import images
from shared.function_names import CREATE_CUSTOM_IMAGE, CUSTOM_IMAGE_STATUS, DELETE_IMAGE
from shared.run.payloads import ImageRef, ImageRequest, ImageStatus

bp = df.Blueprint()


@activity(bp, CREATE_CUSTOM_IMAGE)
def create_custom_image(request: ImageRequest) -> str:
    return images.begin_create_image_from_vhd(request)


@activity(bp, CUSTOM_IMAGE_STATUS)
def custom_image_status(ref: ImageRef) -> ImageStatus:
    return images.image_state(ref.lab, ref.name)


@activity(bp, DELETE_IMAGE)
def delete_image(ref: ImageRef) -> bool:
    return images.begin_delete_image(ref.lab, ref.name, ref.factory_id)
