"""The embedded store's S3 (shoplocal/store/s3_store.py): upload forms checked as S3 checks them
(moto checks none of it), and, end to end under `python -m shoplocal.run`, a photo uploaded with
the form the staff API hands out is checked, shown in the catalogue, served to a browser, and
kept across a restart."""

import base64
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from image_check.image_types import identify
from local_server import LocalServer, start_server
from shopctl.demo import demo_photo
from shoplocal.store.s3_store import check_upload_form

BUCKET = "shop-local-images"
SECRETS = {"local": "local"}


def form(key: str = "products/1/0123456789abcdef", content_type: str = "image/png", most: int = 100) -> dict[str, str]:
    """Fields of an upload form as the staff API signs them (botocore, SigV4)."""
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        endpoint_url="http://127.0.0.1:9",
        config=Config(signature_version="s3v4"),
    )
    fields: dict[str, str] = s3.generate_presigned_post(
        Bucket=BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, most]],
        ExpiresIn=600,
    )["fields"]
    return fields


def refusal(
    fields: dict[str, str], size: int | None = 50, bucket: str = BUCKET, now: datetime | None = None
) -> tuple[int, str] | None:
    refused = check_upload_form(fields, size, bucket, SECRETS, now or datetime.now(UTC))
    return None if refused is None else (refused.status, refused.code)


def test_a_form_as_signed_is_accepted_within_its_size_range() -> None:
    fields = form()
    assert refusal(fields, 1) is None
    assert refusal(fields, 100) is None
    assert refusal({**fields, "x-ignore-tracking": "1"}) is None  # x-ignore- fields are outside the policy


def test_a_file_over_or_under_the_range_is_refused() -> None:
    assert refusal(form(), 101) == (400, "EntityTooLarge")
    assert refusal(form(), 0) == (400, "EntityTooSmall")


TYPES = st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp", "text/html", "image/png; x=1", "IMAGE/PNG"])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(0, 400), TYPES, TYPES)
def test_an_upload_is_accepted_exactly_when_its_size_is_in_range_and_its_type_the_signed_one(
    most: int, size: int, signed: str, sent: str
) -> None:
    fields = form(content_type=signed, most=most)
    accepted = refusal({**fields, "Content-Type": sent}, size) is None
    assert accepted == (1 <= size <= most and sent == signed)


def test_another_content_type_key_or_bucket_breaks_the_policy() -> None:
    fields = form()
    assert refusal({**fields, "Content-Type": "text/html"}) == (403, "AccessDenied")
    assert refusal({**fields, "key": "products/1/other"}) == (403, "AccessDenied")
    assert refusal(fields, bucket="another-bucket") == (403, "AccessDenied")
    assert refusal({**fields, "acl": "public-read"}) == (403, "AccessDenied")  # a field the policy does not cover


def test_an_expired_tampered_or_foreign_form_is_refused() -> None:
    fields = form()
    # Forms are signed with the real clock: eleven minutes from now, this one has expired.
    assert refusal(fields, now=datetime.now(UTC) + timedelta(minutes=11)) == (403, "AccessDenied")
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")]
    bigger = {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert refusal(bigger, 10**9) == (403, "SignatureDoesNotMatch")
    assert refusal({**fields, "x-amz-signature": "0" * 64}) == (403, "SignatureDoesNotMatch")
    foreign = {**fields, "x-amz-credential": fields["x-amz-credential"].replace("local/", "AKIAOTHER/", 1)}
    assert refusal(foreign) == (403, "InvalidAccessKeyId")
    assert refusal({name: value for name, value in fields.items() if name != "policy"}) == (403, "AccessDenied")
    assert refusal(fields, None) == (400, "InvalidArgument")  # no file


# --- end to end: `python -m shoplocal.run` ---------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    running = start_server(tmp_path_factory.mktemp("s3") / "data")
    yield running
    running.stop()


def multipart(fields: dict[str, str], content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.png"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_form(upload: dict[str, Any], content: bytes) -> tuple[int, bytes]:
    body, content_type = multipart(upload["fields"], content)
    request = urllib.request.Request(upload["url"], data=body, method="POST", headers={"Content-Type": content_type})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the local store
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - the local store
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", error.read()


def product_images(server: LocalServer, product_id: int) -> list[dict[str, Any]]:
    page = server.request("GET", f"/api/products?limit=1&page={product_id}").json()
    (product,) = page["results"]
    assert product["id"] == product_id
    images: list[dict[str, Any]] = product["images"]
    return images


def wait_for_images(server: LocalServer, product_id: int, count: int) -> list[dict[str, Any]]:
    """The checker runs after the upload's answer: wait for its result, generously."""
    deadline = time.monotonic() + 60
    while len(images := product_images(server, product_id)) < count:
        assert time.monotonic() < deadline, f"the photo never appeared:\n{server.log()[-3000:]}"
        time.sleep(0.1)
    return images


def test_demo_photos_are_served_to_a_browser(server: LocalServer) -> None:
    (first, *_) = product_images(server, 1)
    assert first["url"].startswith(f"{server.db_url}/{BUCKET}/products/1/")
    status, content_type, content = fetch(first["url"])
    assert (status, content_type) == (200, "image/png")
    info = identify(content)
    assert info is not None
    assert (info.width, info.height) == (first["width"], first["height"])


def test_a_staff_upload_is_checked_shown_served_and_kept_across_a_restart(server: LocalServer, tmp_path: Path) -> None:
    staff = server.sign_in("admin", "admin-password")
    photo = demo_photo(99, 64, 48)
    before = product_images(server, 2)
    created = server.request(
        "POST", "/api/products/2/images", {"content_type": "image/png", "content_length": len(photo), "alt": "Side"}, staff
    )
    assert created.status == 201, created.body
    upload = created.json()["upload"]
    assert upload["url"] == f"{server.db_url}/{BUCKET}"
    # The store enforces the form's policy: a larger file, or another type, is refused.
    assert post_form(upload, photo + b"\x00" * 10)[0] == 400
    assert post_form({**upload, "fields": {**upload["fields"], "Content-Type": "text/html"}}, photo)[0] == 403
    assert post_form(upload, photo)[0] == 204
    images = wait_for_images(server, 2, len(before) + 1)
    added = images[-1]
    assert (added["id"], added["alt"], added["width"], added["height"]) == (created.json()["image"]["id"], "Side", 64, 48)
    assert fetch(added["url"]) == (200, "image/png", photo)
    assert "S3 shop-local-images/products/2/" in server.log()
    server.stop()
    restarted = start_server(server.data_dir)
    try:
        assert fetch(product_images(restarted, 2)[-1]["url"]) == (200, "image/png", photo)
    finally:
        restarted.stop()
