"""Activities for custom images: create from a VHD (or adopt), read status, delete."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from activities._scope import activity
from shared.azure import images
from shared.function_names import CREATE_CUSTOM_IMAGE, CUSTOM_IMAGE_STATUS, DELETE_IMAGE
from shared.run.payloads import ImageRef, ImageRequest

bp = df.Blueprint()


@activity(bp, CREATE_CUSTOM_IMAGE)
def create_custom_image(payload: dict[str, Any]) -> str:
    request = ImageRequest.model_validate(payload)
    return images.begin_create_image_from_vhd(request)


@activity(bp, CUSTOM_IMAGE_STATUS)
def custom_image_status(payload: dict[str, Any]) -> dict[str, Any]:
    ref = ImageRef.model_validate(payload)
    return images.image_state(ref.lab, ref.name).model_dump(mode="json")


@activity(bp, DELETE_IMAGE)
def delete_image(payload: dict[str, Any]) -> bool:
    ref = ImageRef.model_validate(payload)
    return images.begin_delete_image(ref.lab, ref.name, ref.factory_id)
