"""The image checker's data access: the uploaded object in S3, and its product's photo attributes
(`images`, `pending_images`: see shop_common.product_images) on the product item."""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.keys import product_key
from shop_common.product_images import IMAGES, PENDING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_S3_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 4})


# A photo's file is never rewritten: browsers and the CDN may keep it as long as they like.
_NEVER_CHANGES = "public, max-age=31536000, immutable"


@cache
def s3() -> "S3Client":
    return boto3.client("s3", config=_S3_CONFIG)


@dataclass(frozen=True)
class PhotoState:
    """What the product item says of one upload."""

    product_exists: bool
    checked: bool  # already among the product's images (a repeated event, or the form posted again)
    pending: dict[str, Any] | None  # the pending entry: alt, content_type, expires_at (rejected?)
    file_key: str | None = None  # the accepted photo's file, when checked


def read_photo_state(product_id: int, image_id: str) -> PhotoState:
    """One strongly consistent GetItem of the product's photos and this upload's pending entry."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=product_key(product_id),
        ProjectionExpression="PK, #images, #pending.#id",
        ExpressionAttributeNames={"#images": IMAGES, "#pending": PENDING, "#id": image_id},
        ConsistentRead=True,
    )
    if "Item" not in response:
        return PhotoState(product_exists=False, checked=False, pending=None)
    values = from_attributes(response["Item"])
    accepted = [image for image in values.get(IMAGES, []) if image.get("id") == image_id]
    return PhotoState(
        product_exists=True,
        checked=bool(accepted),
        pending=values.get(PENDING, {}).get(image_id),
        file_key=str(accepted[0]["key"]) if accepted else None,
    )


def accept(product_id: int, image_id: str, image: dict[str, Any]) -> bool:
    """Append the checked photo to the product's images and drop its pending entry, in one
    UpdateItem conditioned on the entry still being there (not deleted by staff meanwhile, not
    accepted by a repeated event). False when the condition failed: nothing was written."""
    try:
        client().update_item(
            TableName=settings.table_name(),
            Key=product_key(product_id),
            UpdateExpression="SET #images = list_append(if_not_exists(#images, :none), :new) REMOVE #pending.#id",
            ConditionExpression="attribute_exists(#pending.#id)",
            ExpressionAttributeNames={"#images": IMAGES, "#pending": PENDING, "#id": image_id},
            ExpressionAttributeValues=to_attributes({":none": [], ":new": [image]}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True


def drop_pending(product_id: int, image_id: str) -> None:
    """Remove an upload's pending entry (its file never came); nothing when it is already gone."""
    _update_pending(product_id, image_id, "REMOVE #pending.#id")


def reject(product_id: int, image_id: str, reason: str) -> None:
    """Mark an upload's pending entry rejected, with the reason, for staff to see (and delete);
    it no longer counts against the product's photos. Nothing when the entry is gone."""
    _update_pending(product_id, image_id, "SET #pending.#id.rejected = :reason", {":reason": reason})


def _update_pending(product_id: int, image_id: str, update: str, values: dict[str, Any] | None = None) -> None:
    request: dict[str, Any] = {
        "TableName": settings.table_name(),
        "Key": product_key(product_id),
        "UpdateExpression": update,
        "ConditionExpression": "attribute_exists(#pending.#id)",
        "ExpressionAttributeNames": {"#pending": PENDING, "#id": image_id},
    }
    if values:
        request["ExpressionAttributeValues"] = to_attributes(values)
    try:
        client().update_item(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def read_upload(bucket: str, key: str, limit: int) -> tuple[bytes, int] | None:
    """The uploaded file (one GetObject) and its size; its bytes only when at most `limit` (else
    empty: too large to be a photo). None when the object is gone."""
    try:
        response = s3().get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
    size = int(response.get("ContentLength", 0))
    if size > limit:
        response["Body"].close()
        return b"", size
    return response["Body"].read(), size


def write_photo_file(bucket: str, key: str, data: bytes, content_type: str) -> None:
    """The checked bytes under the photo's own file; it never changes (new checks get new names)."""
    s3().put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type, CacheControl=_NEVER_CHANGES)


def delete_object(bucket: str, key: str) -> None:
    s3().delete_object(Bucket=bucket, Key=key)
