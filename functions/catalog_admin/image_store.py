"""The staff photo API's data access: the photo attributes of a product item (`images`,
`pending_images`: see shop_common.product_images) and the images bucket.

Every write is one UpdateItem of the product conditioned on what was read, so concurrent
uploads, checks and deletions never lose a photo or exceed the limit."""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.keys import product_key
from shop_common.product_images import IMAGES, PENDING, UPLOAD_SECONDS, bucket, product_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Signature version 4 (SigV2 forms are refused in newer regions), and the bucket's regional
# virtual-host URL: the global one answers a bucket's first hours with redirects, which a
# browser's cross-origin POST does not follow. (A local endpoint on an IP stays path-style.)
_S3_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "virtual"},
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 4},
)


@cache
def s3() -> "S3Client":
    return boto3.client("s3", config=_S3_CONFIG)


@dataclass(frozen=True)
class Photos:
    """A product's photos as read: checked ones in order, and pending uploads (None: the item
    has no such attribute yet)."""

    images: list[dict[str, Any]]
    pending: dict[str, dict[str, Any]] | None
    has_images: bool


def read_photos(product_id: int) -> Photos | None:
    """One strongly consistent GetItem; None when there is no such product."""
    response = client().get_item(
        TableName=settings.table_name(),
        Key=product_key(product_id),
        ProjectionExpression="PK, #images, #pending",
        ExpressionAttributeNames={"#images": IMAGES, "#pending": PENDING},
        ConsistentRead=True,
    )
    if "Item" not in response:
        return None
    values = from_attributes(response["Item"])
    return Photos(values.get(IMAGES, []), values.get(PENDING), IMAGES in values)


class _Update:
    """An UpdateItem of a product's photo attributes, conditioned on them being as read."""

    def __init__(self, photos: Photos) -> None:
        self.names = {"#images": IMAGES, "#pending": PENDING}
        self.values: dict[str, Any] = {}
        self.conditions = ["attribute_exists(PK)"]
        self.conditions.append("size(#images) = :images_read" if photos.has_images else "attribute_not_exists(#images)")
        if photos.has_images:
            self.values[":images_read"] = len(photos.images)
        if photos.pending is None:
            self.conditions.append("attribute_not_exists(#pending)")
        else:
            self.conditions.append("size(#pending) = :pending_read")
            self.values[":pending_read"] = len(photos.pending)

    def pending_name(self, image_id: str) -> str:
        placeholder = f"#p{len(self.names)}"
        self.names[placeholder] = image_id
        return f"#pending.{placeholder}"

    def run(self, product_id: int, update_expression: str, *conditions: str) -> bool:
        """False when the product changed since it was read (nothing was written)."""
        request: dict[str, Any] = {
            "TableName": settings.table_name(),
            "Key": product_key(product_id),
            "UpdateExpression": update_expression,
            "ConditionExpression": " AND ".join([*self.conditions, *conditions]),
            "ExpressionAttributeNames": self.names,
        }
        if self.values:
            request["ExpressionAttributeValues"] = to_attributes(self.values)
        try:
            client().update_item(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True


def add_pending(product_id: int, photos: Photos, image_id: str, entry: dict[str, Any], expired: list[str]) -> bool:
    """Record a new pending upload (and forget expired ones) if the photos are still as read."""
    update = _Update(photos)
    update.values[":entry"] = entry
    if photos.pending is None:
        update.values[":entry"] = {image_id: entry}
        return update.run(product_id, "SET #pending = :entry")
    assignment = f"SET {update.pending_name(image_id)} = :entry"
    removals = [update.pending_name(old) for old in expired]
    return update.run(product_id, assignment + (" REMOVE " + ", ".join(removals) if removals else ""))


def remove_checked(product_id: int, photos: Photos, index: int) -> bool:
    update = _Update(photos)
    update.values[":id"] = photos.images[index]["id"]
    return update.run(product_id, f"REMOVE #images[{index}]", f"#images[{index}].id = :id")


def remove_pending(product_id: int, photos: Photos, image_id: str) -> bool:
    update = _Update(photos)
    name = update.pending_name(image_id)
    return update.run(product_id, f"REMOVE {name}", f"attribute_exists({name})")


def set_images(product_id: int, photos: Photos, images: list[dict[str, Any]]) -> bool:
    update = _Update(photos)
    update.values.update({":old": photos.images, ":new": images})
    return update.run(product_id, "SET #images = :new", "#images = :old")


def upload_form(key: str, content_type: str, max_length: int) -> dict[str, Any]:
    """A presigned POST (signed here, no call) whose policy S3 enforces at upload: this key,
    exactly this Content-Type, 1 to `max_length` bytes, within UPLOAD_SECONDS."""
    form: dict[str, Any] = s3().generate_presigned_post(
        Bucket=bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_length]],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return form


def delete_object(key: str) -> None:
    s3().delete_object(Bucket=bucket(), Key=key)


def delete_product_files(product_id: int) -> int:
    """Delete every file under the product's prefix (its photos, checked or not): one
    ListObjectsV2 and one DeleteObjects (a product has at most a handful); how many."""
    listed = s3().list_objects_v2(Bucket=bucket(), Prefix=product_prefix(product_id), MaxKeys=1000)
    keys = [entry["Key"] for entry in listed.get("Contents", [])]
    if keys:
        s3().delete_objects(Bucket=bucket(), Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
    return len(keys)
