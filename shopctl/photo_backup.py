"""The photo files in `shopctl export` and `shopctl import`.

A product's accepted photos name their files in the images bucket (`images[].key`); the table
alone does not hold the bytes. An export keeps the file of every accepted photo beside the items
(`"files": {key: {"content_type", "base64"}}`), and an import writes them back, so a restored
catalogue serves its photos. The bucket is the local store's, or a deployed stack's named with
--bucket (the stack's ImagesBucket output). Uploads not accepted are not kept: they are
transient. What is left out is said, at export and at import.
"""

import base64
import binascii
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Progress = Callable[[int], None]
_CONFIG = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 8})


class PhotoFileError(Exception):
    """The export's files are malformed."""


@cache
def _s3() -> "S3Client":
    return boto3.client("s3", config=_CONFIG)


def photo_keys(items: list[dict[str, Any]]) -> list[str]:
    """The files the items' accepted photos name (products' `images`, as DynamoDB JSON)."""
    keys = []
    for item in items:
        for image in item.get("images", {}).get("L", []):
            key = image.get("M", {}).get("key", {}).get("S")
            if isinstance(key, str):
                keys.append(key)
    return sorted(set(keys))


def read_files(bucket: str, keys: list[str], on_progress: Progress) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The files, for the export; and the keys the bucket does not have."""
    files: dict[str, dict[str, str]] = {}
    missing = []
    for key in keys:
        try:
            stored = _s3().get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            missing.append(key)
        else:
            content = stored["Body"].read()
            files[key] = {"content_type": stored.get("ContentType", ""), "base64": base64.b64encode(content).decode()}
        on_progress(1)
    return files, missing


def files_of_export(document: dict[str, Any]) -> dict[str, tuple[bytes, str]] | None:
    """The export's files (key -> bytes, content type); None for an export without any."""
    files = document.get("files")
    if files is None:
        return None
    if not isinstance(files, dict):
        raise PhotoFileError('"files" must be an object of file keys')
    decoded = {}
    for key, entry in files.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("base64"), str) and isinstance(entry.get("content_type"), str)):
            raise PhotoFileError(f"files[{key!r}] must have a content_type and base64 content")
        try:
            decoded[key] = (base64.b64decode(entry["base64"], validate=True), entry["content_type"])
        except binascii.Error as error:
            raise PhotoFileError(f"files[{key!r}] is not valid base64") from error
    return decoded


def write_files(bucket: str, files: dict[str, tuple[bytes, str]], on_progress: Progress) -> None:
    for key, (content, content_type) in files.items():
        _s3().put_object(Bucket=bucket, Key=key, Body=content, ContentType=content_type)
        on_progress(1)
