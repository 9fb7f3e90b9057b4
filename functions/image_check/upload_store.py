"""The image checker's data access: the uploaded object in S3, and its product's photo attributes
(`images`, `pending_images`: see shop_common.product_images) on the product item."""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.catalog import product_key
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.product_images import IMAGES, PENDING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_S3_CONFIG = Config(connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 4})


@cache
def s3() -> "S3Client":
    return boto3.client("s3", config=_S3_CONFIG)


@dataclass(frozen=True)
class PhotoState:
    """What the product item says of one upload."""

    product_exists: bool
    checked: bool  # already among the product's images (a repeated event)
    pending: dict[str, Any] | None  # the pending entry: alt, content_type, expires_at


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
    checked = any(image.get("id") == image_id for image in values.get(IMAGES, []))
    return PhotoState(product_exists=True, checked=checked, pending=values.get(PENDING, {}).get(image_id))


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
    """Remove an upload's pending entry (a refused upload); nothing when it is already gone."""
    try:
        client().update_item(
            TableName=settings.table_name(),
            Key=product_key(product_id),
            UpdateExpression="REMOVE #pending.#id",
            ConditionExpression="attribute_exists(#pending.#id)",
            ExpressionAttributeNames={"#pending": PENDING, "#id": image_id},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def read_head(bucket: str, key: str, length: int) -> tuple[bytes, int] | None:
    """The object's first `length` bytes (one ranged GetObject) and its whole size; None when
    the object is gone."""
    try:
        response = s3().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{length - 1}")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404"):
            return None
        if code == "InvalidRange":  # an empty object has no byte 0
            return b"", 0
        raise
    head = response["Body"].read()
    # "bytes 0-1023/52311": the size after the slash; without a range (an empty object) the length.
    content_range = response.get("ContentRange", "")
    size = int(content_range.rpartition("/")[2]) if "/" in content_range else len(head)
    return head, size


def delete_object(bucket: str, key: str) -> None:
    s3().delete_object(Bucket=bucket, Key=key)
