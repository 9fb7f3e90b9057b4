"""The staff photo API's rules, independent of HTTP: handing out an upload, deleting a photo,
putting a product's photos in order.

An upload is recorded as pending on the product item and appears among its images only once the
image checker (functions/image_check) has read its bytes. Deleting a photo deletes its object at
once (CloudFront may serve its cached copy for up to a day)."""

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from catalog_admin.image_store import (
    Photos,
    add_pending,
    delete_object,
    delete_product_files,
    read_photos,
    remove_checked,
    remove_pending,
    set_images,
    upload_form,
)
from shop_common.errors import Conflict, InvalidRequest, NotFound
from shop_common.models import ProductImage
from shop_common.product_images import MAX_IMAGES, PENDING_SECONDS, object_key

logger = Logger(child=True)

# Attempts when the photos changed between our read and our write (a check, another request).
_ATTEMPTS = 3


def _not_found(product_id: int) -> NotFound:
    return NotFound("Not found.", errors=[{"field": "product_id", "message": f"No product with id {product_id}."}])


def _kept_changing() -> Conflict:
    return Conflict("The product's photos kept changing; nothing was written. Retrying is safe.", code="conflict")


def _photos(product_id: int) -> Photos:
    photos = read_photos(product_id)
    if photos is None:
        raise _not_found(product_id)
    return photos


def _now() -> int:
    return int(time.time())


def images_json(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ProductImage(**image).to_json() for image in images]


def _status(entry: dict[str, Any], now: int) -> str:
    """An upload not accepted (yet): `rejected` by the checker, `expired` (an hour after it was
    handed out: it no longer counts, and goes with the next upload), else `pending` (counts)."""
    if "rejected" in entry:
        return "rejected"
    return "expired" if int(entry.get("expires_at", 0)) <= now else "pending"


def all_photos(product_id: int) -> dict[str, Any]:
    """The product's photos as staff see them: the accepted ones in order, and every upload not
    accepted, pending, expired or rejected (with the reason), to delete if need be."""
    photos = _photos(product_id)
    now = _now()
    uploads = []
    for image_id, entry in sorted((photos.pending or {}).items(), key=lambda pair: (int(pair[1].get("expires_at", 0)), pair[0])):
        upload = {
            "id": image_id,
            "alt": str(entry.get("alt", "")),
            "content_type": str(entry.get("content_type", "")),
            "status": _status(entry, now),
            "expires_at": datetime.fromtimestamp(int(entry.get("expires_at", 0)), UTC).isoformat().replace("+00:00", "Z"),
        }
        if "rejected" in entry:
            upload["reason"] = str(entry["rejected"])
        uploads.append(upload)
    return {"id": product_id, "images": images_json(photos.images), "uploads": uploads}


def start_upload(product_id: int, content_type: str, content_length: int, alt: str) -> dict[str, Any]:
    """A pending photo and the form to upload it with (a presigned POST)."""
    for _ in range(_ATTEMPTS):
        photos = _photos(product_id)
        now = _now()
        pending = photos.pending or {}
        expired = [image_id for image_id, entry in pending.items() if int(entry.get("expires_at", 0)) <= now]
        waiting = [image_id for image_id, entry in pending.items() if _status(entry, now) == "pending"]
        if len(photos.images) + len(waiting) >= MAX_IMAGES:
            message = f"A product has at most {MAX_IMAGES} photos (uploads not yet checked count); delete one first."
            raise Conflict(message, code="too_many_images")
        image_id = secrets.token_hex(8)
        entry = {"alt": alt, "content_type": content_type, "expires_at": now + PENDING_SECONDS}
        if add_pending(product_id, photos, image_id, entry, expired):
            break
    else:
        raise _kept_changing()
    form = upload_form(object_key(product_id, image_id), content_type, content_length)
    logger.info("Photo upload handed out", extra={"product_id": product_id, "image_id": image_id})
    return {"image": {"id": image_id, "alt": alt, "status": "pending"}, "upload": {"url": form["url"], "fields": form["fields"]}}


def delete_image(product_id: int, image_id: str) -> None:
    """Delete a checked or pending photo, and its object."""
    for _ in range(_ATTEMPTS):
        photos = _photos(product_id)
        positions = [index for index, image in enumerate(photos.images) if image.get("id") == image_id]
        files = [object_key(product_id, image_id)]  # the upload's file (gone once its photo was accepted)
        if positions:
            removed = remove_checked(product_id, photos, positions[0])
            files.append(str(photos.images[positions[0]]["key"]))  # the photo's own file
        elif image_id in (photos.pending or {}):
            removed = remove_pending(product_id, photos, image_id)
        else:
            raise NotFound(
                "Not found.", errors=[{"field": "image_id", "message": f"Product {product_id} has no photo {image_id}."}]
            )
        if removed:
            for key in dict.fromkeys(files):
                delete_object(key)
            logger.info("Photo deleted", extra={"product_id": product_id, "image_id": image_id})
            return
    raise _kept_changing()


def forget_photos_of(product_id: int) -> None:
    """After a product's deletion: delete its photo files (an upload still arriving is deleted
    by the checker, which finds no product)."""
    deleted = delete_product_files(product_id)
    if deleted:
        logger.info("Photos of a deleted product deleted", extra={"product_id": product_id, "files": deleted})


def reorder(product_id: int, order: list[str]) -> list[dict[str, Any]]:
    """Put the checked photos in `order`, which must name each of them exactly once."""
    for _ in range(_ATTEMPTS):
        photos = _photos(product_id)
        by_id = {str(image["id"]): image for image in photos.images}
        if len(order) != len(set(order)) or set(order) != set(by_id):
            current = ", ".join(by_id) or "none"
            message = f"Name every current photo exactly once (current: {current})."
            raise InvalidRequest("Invalid request.", errors=[{"field": "order", "message": message}])
        images = [by_id[image_id] for image_id in order]
        if images == photos.images or set_images(product_id, photos, images):
            return images
    raise _kept_changing()
