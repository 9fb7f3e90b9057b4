"""Product photos: the staff API (POST, PATCH /api/products/{id}/images, DELETE .../{image_id})
and the image checker (functions/image_check) that accepts an upload into the product's
`images` only after reading its bytes. Permissions, bad input (4xx, nothing changed), the
upload form's policy, the limit under concurrency, and the calls each request makes."""

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests

from conftest import IMAGES_BUCKET, fresh_handler
from image_files import gif, jpeg, png_header
from shop_common import settings
from shop_common.catalog import add_products, remove_product
from shop_common.dynamo import client, from_attributes
from shop_common.keys import product_key
from shop_common.models import NewProduct
from shop_common.product_images import MAX_BYTES, MAX_IMAGES, PENDING_SECONDS
from shopctl.demo import demo_photo
from shoplocal.gateway.invoke import Handler, LambdaContext, LocalApi
from shoplocal.gateway.s3_events import object_created_event

Headers = dict[str, str]
PNG = demo_photo(1)


def s3() -> Any:
    return boto3.client("s3")


def empty_bucket() -> None:
    for stored in s3().list_objects_v2(Bucket=IMAGES_BUCKET).get("Contents", []):
        s3().delete_object(Bucket=IMAGES_BUCKET, Key=stored["Key"])


@pytest.fixture(autouse=True)
def images_bucket() -> Iterator[None]:
    """The session's images bucket, empty for each test (other tests may leave photos in it)."""
    empty_bucket()
    yield
    empty_bucket()


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    _, headers = signed_in(is_staff=True)
    result: Headers = headers
    return result


@pytest.fixture
def product() -> int:
    (added,) = add_products([NewProduct(name="Teapot", price=Decimal("24.50"), quantity=3)])
    return added.id


def item(product_id: int) -> dict[str, Any]:
    found = client().get_item(TableName=settings.table_name(), Key=product_key(product_id), ConsistentRead=True)
    return from_attributes(found.get("Item", {}))


def objects() -> list[str]:
    return sorted(entry["Key"] for entry in s3().list_objects_v2(Bucket=IMAGES_BUCKET).get("Contents", []))


def photo_file(product_id: int, image_id: str) -> str:
    """The accepted photo's own file (products/<id>/<image id>-<8 hex>.<ext>)."""
    (image,) = [image for image in item(product_id)["images"] if image["id"] == image_id]
    key: str = image["key"]
    assert re.fullmatch(rf"products/{product_id}/{image_id}-[0-9a-f]{{8}}\.(png|jpg|gif|webp)", key), key
    return key


def file_bytes(key: str) -> bytes:
    content: bytes = s3().get_object(Bucket=IMAGES_BUCKET, Key=key)["Body"].read()
    return content


def new_upload(api: LocalApi, headers: Headers, product_id: int, content_type: str = "image/png", length: int = len(PNG)) -> Any:
    body = {"content_type": content_type, "content_length": length, "alt": "A teapot"}
    return api.request("POST", f"/api/products/{product_id}/images", json_body=body, headers=headers)


def post_form(upload: dict[str, Any], content: bytes) -> requests.Response:
    """What a browser does with the form: the fields, then the file."""
    return requests.post(upload["url"], data=upload["fields"], files={"file": ("photo", content)}, timeout=30)


def check(key: str, size: int = 0) -> dict[str, int]:
    """The image checker, as S3's notification runs it."""
    from image_check import handler as image_check_handler

    handler: Handler = image_check_handler.lambda_handler
    result: dict[str, int] = handler(object_created_event(IMAGES_BUCKET, key, size, "eu-west-1"), LambdaContext("check"))
    return result


def upload_and_check(
    api: LocalApi, staff: Headers, product_id: int, content: bytes = PNG, content_type: str = "image/png"
) -> str:
    response = new_upload(api, staff, product_id, content_type, len(content))
    assert response.status == 201, response.body
    upload = response.json()["upload"]
    s3().put_object(Bucket=IMAGES_BUCKET, Key=upload["fields"]["key"], Body=content, ContentType=content_type)
    check(upload["fields"]["key"], len(content))
    image_id: str = response.json()["image"]["id"]
    return image_id


# --- permissions ------------------------------------------------------------------------------


def endpoints(product_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("GET", f"/api/products/{product_id}/images", None),
        ("POST", f"/api/products/{product_id}/images", {"content_type": "image/png", "content_length": 10}),
        ("PATCH", f"/api/products/{product_id}/images", {"order": []}),
        ("DELETE", f"/api/products/{product_id}/images/0123456789abcdef", None),
    ]


def test_anonymous_requests_are_401_and_customers_403_and_nothing_changes(
    api: LocalApi, signed_in: Any, product: int, dynamodb_calls: Any
) -> None:
    _, customer = signed_in()
    before = item(product)
    for method, path, body in endpoints(product):
        dynamodb_calls.clear()
        assert api.request(method, path, json_body=body).status == 401
        assert dynamodb_calls.calls == []
        response = api.request(method, path, json_body=body, headers=customer)
        assert response.status == 403, response.body
        assert response.json()["code"] == "permission_denied"
        assert dynamodb_calls.operations == ["GetItem"]
    assert item(product) == before
    assert objects() == []


# --- POST /api/products/{id}/images --------------------------------------------------------


def test_staff_get_a_pending_photo_and_a_presigned_post_that_enforces_type_and_size(
    api: LocalApi, staff: Headers, product: int, dynamodb_calls: Any
) -> None:
    dynamodb_calls.clear()
    response = new_upload(api, staff, product, "image/webp", 1234)
    assert response.status == 201, response.body
    body = response.json()
    image_id = body["image"]["id"]
    assert body["image"] == {"id": image_id, "alt": "A teapot", "status": "pending"}
    fields = body["upload"]["fields"]
    assert fields["key"] == f"products/{product}/{image_id}"
    assert fields["Content-Type"] == "image/webp"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"Content-Type": "image/webp"} in policy["conditions"]
    assert ["content-length-range", 1, 1234] in policy["conditions"]
    assert {"key": fields["key"]} in policy["conditions"]
    assert {"bucket": IMAGES_BUCKET} in policy["conditions"]
    expires = time.mktime(time.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 0 < expires - time.time() <= 600
    # The staff check, the product's photos, one conditional write of the pending entry; the form is signed locally.
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "UpdateItem"]
    pending = item(product)["pending_images"]
    assert set(pending) == {image_id}
    assert pending[image_id]["content_type"] == "image/webp"
    assert item(product).get("images", []) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "text/html", "content_length": 10}, "content_type"),
        ({"content_type": "image/svg+xml", "content_length": 10}, "content_type"),
        ({"content_type": "image/png", "content_length": MAX_BYTES + 1}, "content_length"),
        ({"content_type": "image/png", "content_length": 0}, "content_length"),
        ({"content_type": "image/png", "content_length": "10"}, "content_length"),
        ({"content_type": "image/png", "content_length": True}, "content_length"),
        ({"content_type": "image/png"}, "content_length"),
        ({"content_type": "image/png", "content_length": 10, "alt": "x" * 301}, "alt"),
        ({"content_type": "image/png", "content_length": 10, "key": "products/1/evil"}, "key"),
    ],
)
def test_a_non_image_type_an_oversize_length_or_other_bad_input_is_400_at_once(
    api: LocalApi, staff: Headers, product: int, dynamodb_calls: Any, body: dict[str, Any], field: str
) -> None:
    before = item(product)
    dynamodb_calls.clear()
    response = api.request("POST", f"/api/products/{product}/images", json_body=body, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["detail"]
    assert field in {error["field"] for error in response.json()["errors"]}
    assert dynamodb_calls.operations == ["GetItem"]  # the staff check only
    assert item(product) == before


def test_an_unknown_product_is_404_and_a_bad_id_400(api: LocalApi, staff: Headers, product: int) -> None:
    response = new_upload(api, staff, product + 1)
    assert response.status == 404
    assert response.json()["errors"][0]["field"] == "product_id"
    assert new_upload(api, staff, 0).status == 400
    assert api.request("POST", "/api/products/abc/images", json_body={}, headers=staff).status == 400


def test_a_product_takes_at_most_the_limit_of_photos_pending_ones_included(
    api: LocalApi, staff: Headers, product: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_and_check(api, staff, product)  # one checked
    for _ in range(MAX_IMAGES - 1):
        assert new_upload(api, staff, product).status == 201
    before = item(product)
    response = new_upload(api, staff, product)
    assert response.status == 409
    assert response.json()["code"] == "too_many_images"
    assert item(product) == before
    # Pending uploads never used stop counting once they expire, and are forgotten then.
    from catalog_admin import image_admin

    later = int(time.time()) + PENDING_SECONDS + 1
    monkeypatch.setattr(image_admin, "_now", lambda: later)
    assert new_upload(api, staff, product).status == 201
    assert len(item(product)["pending_images"]) == 1
    assert len(item(product)["images"]) == 1


def test_concurrent_uploads_never_exceed_the_limit(api: LocalApi, staff: Headers, product: int) -> None:
    handlers = [fresh_handler("CatalogAdminFunction") for _ in range(MAX_IMAGES + 6)]
    statuses: list[int] = []
    start = threading.Barrier(len(handlers))

    def request(handler: Any) -> None:
        local = LocalApi({"CatalogAdminFunction": handler})
        start.wait()
        statuses.append(new_upload(local, staff, product).status)

    threads = [threading.Thread(target=request, args=(handler,)) for handler in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) <= MAX_IMAGES
    assert set(statuses) <= {201, 409}
    assert len(item(product)["pending_images"]) == statuses.count(201)
    # Whatever lost to concurrent writes can try again until the limit: never beyond it.
    while new_upload(api, staff, product).status == 201:
        pass
    assert len(item(product)["pending_images"]) == MAX_IMAGES


# --- the check after upload --------------------------------------------------------------------


def test_an_upload_through_the_form_appears_in_the_products_images_after_its_check(
    api: LocalApi, staff: Headers, product: int, dynamodb_calls: Any
) -> None:
    response = new_upload(api, staff, product)
    image_id, upload = response.json()["image"]["id"], response.json()["upload"]
    assert post_form(upload, PNG).status_code == 204
    key = upload["fields"]["key"]
    assert s3().head_object(Bucket=IMAGES_BUCKET, Key=key)["ContentType"] == "image/png"
    dynamodb_calls.clear()
    assert check(key, len(PNG)) == {"accepted": 1}
    # One read of the product's photos, one conditional write moving the photo out of pending.
    assert dynamodb_calls.operations == ["GetItem", "UpdateItem"]
    served = photo_file(product, image_id)
    assert item(product)["images"] == [{"id": image_id, "key": served, "alt": "A teapot", "width": 320, "height": 240}]
    assert item(product)["pending_images"] == {}
    # The checked bytes, in a file of the photo's own; the upload's file is gone.
    assert objects() == [served]
    assert file_bytes(served) == PNG
    assert s3().head_object(Bucket=IMAGES_BUCKET, Key=served)["ContentType"] == "image/png"
    shown = api.request("PATCH", f"/api/products/{product}/images", json_body={"order": [image_id]}, headers=staff).json()
    assert shown["images"] == [{"id": image_id, "url": f"/{served}", "alt": "A teapot", "width": 320, "height": 240}]


def test_photos_appear_in_the_order_their_checks_finish_and_a_repeated_event_adds_nothing(
    api: LocalApi, staff: Headers, product: int
) -> None:
    first = upload_and_check(api, staff, product)
    second = upload_and_check(api, staff, product, gif(40, 30), "image/gif")
    third = upload_and_check(api, staff, product, jpeg(1024, 768), "image/jpeg")
    assert check(f"products/{product}/{second}") == {"deleted": 1}  # a repeated event: the upload's file is gone already
    images = item(product)["images"]
    assert [image["id"] for image in images] == [first, second, third]
    assert [(image["width"], image["height"]) for image in images] == [(320, 240), (40, 30), (1024, 768)]


@pytest.mark.parametrize(
    ("content", "declared", "reason"),
    [
        (b"<html><script>alert(1)</script></html>", "image/png", "not a PNG"),
        (b"", "image/png", "not a PNG"),
        (gif(10, 10), "image/png", "a image/gif image uploaded as image/png"),
        (jpeg(20_000, 100), "image/jpeg", "over 10000 on a side"),
        (png_header(10_000, 10_000), "image/png", "over the cap of 25,000,000 pixels in all"),  # a decompression bomb
        (PNG + b"\x00" * (MAX_BYTES + 1 - len(PNG)), "image/png", "over the cap"),
    ],
)
def test_a_non_image_a_mislabelled_image_or_an_oversize_object_is_deleted_and_never_shown(
    api: LocalApi, staff: Headers, product: int, content: bytes, declared: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = new_upload(api, staff, product, declared, min(max(len(content), 1), MAX_BYTES))
    key = response.json()["upload"]["fields"]["key"]
    # Put directly, as if the storage had not enforced the policy: the checker is the second line.
    s3().put_object(Bucket=IMAGES_BUCKET, Key=key, Body=content, ContentType=declared)
    caplog.clear()
    assert check(key, len(content)) == {"refused": 1}
    assert any(reason in getattr(record, "outcome", "") for record in caplog.records)
    assert objects() == []
    image_id = response.json()["image"]["id"]
    assert reason in item(product)["pending_images"][image_id]["rejected"]  # for staff to see
    assert item(product).get("images", []) == []


def test_a_form_posted_again_after_its_photo_was_accepted_never_changes_the_photo(
    api: LocalApi, staff: Headers, product: int
) -> None:
    """The form stays valid its 10 minutes: posting other bytes with it after the photo was
    accepted writes the upload's key, never the photo's own file, and the checker deletes it."""
    response = new_upload(api, staff, product)
    image_id, upload = response.json()["image"]["id"], response.json()["upload"]
    assert post_form(upload, PNG).status_code == 204
    assert check(upload["fields"]["key"], len(PNG)) == {"accepted": 1}
    served = photo_file(product, image_id)
    html = b"<html><body>" + b"x" * 60 + b"</body></html>"
    assert post_form(upload, html).status_code == 204  # S3 takes it: the policy still holds
    assert check(upload["fields"]["key"], len(html)) == {"deleted": 1}
    assert objects() == [served]
    assert file_bytes(served) == PNG
    assert photo_file(product, image_id) == served


def test_the_bytes_served_are_the_bytes_checked_even_if_the_form_is_posted_again_during_the_check(
    api: LocalApi, staff: Headers, product: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from image_check import upload_check

    response = new_upload(api, staff, product)
    image_id, upload = response.json()["image"]["id"], response.json()["upload"]
    key = upload["fields"]["key"]
    assert post_form(upload, PNG).status_code == 204
    from image_check.upload_store import read_upload as real_read

    def read_then_overwritten(*args: Any) -> Any:
        read = real_read(*args)
        assert post_form(upload, b"<html>not a photo</html>").status_code == 204
        return read

    monkeypatch.setattr(upload_check, "read_upload", read_then_overwritten)
    assert check(key, len(PNG)) == {"accepted": 1}
    monkeypatch.undo()
    assert check(key) == {"deleted": 1}  # the second post's event
    served = photo_file(product, image_id)
    assert file_bytes(served) == PNG
    assert objects() == [served]


def test_a_photo_of_many_pixels_in_a_small_file_is_refused_and_a_camera_photo_is_not(
    api: LocalApi, staff: Headers, product: int
) -> None:
    """10,000 x 10,000 in a few bytes would cost every client 400 MB to decode; 6,000 x 4,000
    (24 megapixels) is within the cap of 25 million pixels."""
    bomb = new_upload(api, staff, product, "image/png", len(png_header(10_000, 10_000))).json()
    s3().put_object(Bucket=IMAGES_BUCKET, Key=bomb["upload"]["fields"]["key"], Body=png_header(10_000, 10_000))
    assert check(bomb["upload"]["fields"]["key"]) == {"refused": 1}
    camera = upload_and_check(api, staff, product, png_header(6_000, 4_000))
    assert [(image["id"], image["width"], image["height"]) for image in item(product)["images"]] == [(camera, 6_000, 4_000)]


def test_uploads_nobody_asked_for_are_deleted(api: LocalApi, staff: Headers, product: int) -> None:
    stray = [f"products/{product}/0123456789abcdef", f"products/{product}/not-an-id", "products/x"]
    for key in stray:
        s3().put_object(Bucket=IMAGES_BUCKET, Key=key, Body=PNG)
        assert check(key) == {"deleted": 1}
    assert objects() == []
    # A photo deleted by staff, or whose product was deleted, before its check.
    for remove in ("photo", "product"):
        response = new_upload(api, staff, product)
        upload = response.json()["upload"]
        s3().put_object(Bucket=IMAGES_BUCKET, Key=upload["fields"]["key"], Body=PNG)
        if remove == "photo":
            path = f"/api/products/{product}/images/{response.json()['image']['id']}"
            assert api.request("DELETE", path, headers=staff).status == 204
            s3().put_object(Bucket=IMAGES_BUCKET, Key=upload["fields"]["key"], Body=PNG)  # arrives after the deletion
        else:
            assert remove_product(product)
        assert check(upload["fields"]["key"]) == {"deleted": 1}
        assert objects() == []


def test_an_upload_that_never_arrived_is_dropped_when_its_event_comes(api: LocalApi, staff: Headers, product: int) -> None:
    key = new_upload(api, staff, product).json()["upload"]["fields"]["key"]
    assert check(key) == {"dropped": 1}
    assert item(product)["pending_images"] == {}


# --- GET: what staff see of uploads not accepted ------------------------------------------------


def test_staff_see_pending_expired_and_rejected_uploads_with_the_reason_and_can_delete_them(
    api: LocalApi, staff: Headers, product: int, monkeypatch: pytest.MonkeyPatch, dynamodb_calls: Any
) -> None:
    from catalog_admin import image_admin

    accepted = upload_and_check(api, staff, product)
    refused = new_upload(api, staff, product, "image/png", 40).json()
    s3().put_object(Bucket=IMAGES_BUCKET, Key=refused["upload"]["fields"]["key"], Body=gif(4, 4))
    assert check(refused["upload"]["fields"]["key"]) == {"refused": 1}
    waiting = new_upload(api, staff, product).json()["image"]["id"]
    dynamodb_calls.clear()
    listed = api.request("GET", f"/api/products/{product}/images", headers=staff)
    assert listed.status == 200, listed.body
    assert dynamodb_calls.operations == ["GetItem", "GetItem"]  # the staff check, the product's photos
    body = listed.json()
    assert [image["id"] for image in body["images"]] == [accepted]
    uploads = {upload["id"]: upload for upload in body["uploads"]}
    assert uploads[refused["image"]["id"]]["status"] == "rejected"
    assert uploads[refused["image"]["id"]]["reason"] == "a image/gif image uploaded as image/png"
    assert (uploads[waiting]["status"], uploads[waiting]["content_type"], uploads[waiting]["alt"]) == (
        "pending",
        "image/png",
        "A teapot",
    )
    assert "reason" not in uploads[waiting]
    later = int(time.time()) + PENDING_SECONDS + 1
    monkeypatch.setattr(image_admin, "_now", lambda: later)
    later_view = api.request("GET", f"/api/products/{product}/images", headers=staff).json()
    assert {upload["id"]: upload["status"] for upload in later_view["uploads"]} == {
        refused["image"]["id"]: "rejected",
        waiting: "expired",
    }
    monkeypatch.undo()
    for image_id in (refused["image"]["id"], waiting):
        assert api.request("DELETE", f"/api/products/{product}/images/{image_id}", headers=staff).status == 204
    assert api.request("GET", f"/api/products/{product}/images", headers=staff).json()["uploads"] == []
    assert api.request("GET", "/api/products/999999/images", headers=staff).status == 404


def test_rejected_uploads_do_not_count_against_the_limit(api: LocalApi, staff: Headers, product: int) -> None:
    for _ in range(MAX_IMAGES):
        refused = new_upload(api, staff, product).json()
        s3().put_object(Bucket=IMAGES_BUCKET, Key=refused["upload"]["fields"]["key"], Body=b"not a photo")
        assert check(refused["upload"]["fields"]["key"]) == {"refused": 1}
    assert new_upload(api, staff, product).status == 201


# --- DELETE and PATCH ----------------------------------------------------------------------------


def test_deleting_a_photo_removes_it_and_its_file(api: LocalApi, staff: Headers, product: int, dynamodb_calls: Any) -> None:
    kept, gone = upload_and_check(api, staff, product), upload_and_check(api, staff, product)
    dynamodb_calls.clear()
    response = api.request("DELETE", f"/api/products/{product}/images/{gone}", headers=staff)
    assert response.status == 204, response.body
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "UpdateItem"]
    assert [image["id"] for image in item(product)["images"]] == [kept]
    assert objects() == [photo_file(product, kept)]
    again = api.request("DELETE", f"/api/products/{product}/images/{gone}", headers=staff)
    assert again.status == 404
    assert again.json()["errors"][0]["field"] == "image_id"


def test_deleting_a_pending_photo_forgets_it(api: LocalApi, staff: Headers, product: int) -> None:
    image_id = new_upload(api, staff, product).json()["image"]["id"]
    assert api.request("DELETE", f"/api/products/{product}/images/{image_id}", headers=staff).status == 204
    assert item(product)["pending_images"] == {}


def test_bad_photo_ids_and_unknown_products_change_nothing(api: LocalApi, staff: Headers, product: int) -> None:
    upload_and_check(api, staff, product)
    before, stored = item(product), objects()
    assert api.request("DELETE", f"/api/products/{product}/images/NOT-AN-ID", headers=staff).status == 400
    assert api.request("DELETE", f"/api/products/{product + 1}/images/0123456789abcdef", headers=staff).status == 404
    assert item(product) == before
    assert objects() == stored


def test_photos_are_reordered_when_the_order_names_each_exactly_once(
    api: LocalApi, staff: Headers, product: int, dynamodb_calls: Any
) -> None:
    ids = [upload_and_check(api, staff, product) for _ in range(3)]
    new_order = [ids[2], ids[0], ids[1]]
    dynamodb_calls.clear()
    response = api.request("PATCH", f"/api/products/{product}/images", json_body={"order": new_order}, headers=staff)
    assert response.status == 200, response.body
    assert [image["id"] for image in response.json()["images"]] == new_order
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "UpdateItem"]
    assert [image["id"] for image in item(product)["images"]] == new_order


@pytest.mark.parametrize(
    "order",
    [
        lambda ids: ids[:2],  # one left out
        lambda ids: [*ids, ids[0]],  # one twice
        lambda ids: [*ids[:2], "0123456789abcdef"],  # a stranger
        lambda ids: [*ids, "0123456789abcdef"],
        lambda ids: "not a list",
        lambda ids: [*ids[:2], 7],
    ],
)
def test_an_order_that_does_not_name_the_current_photos_exactly_is_400(
    api: LocalApi, staff: Headers, product: int, order: Any
) -> None:
    ids = [upload_and_check(api, staff, product) for _ in range(3)]
    before = item(product)
    response = api.request("PATCH", f"/api/products/{product}/images", json_body={"order": order(ids)}, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["errors"][0]["field"].startswith("order")
    assert item(product) == before


@pytest.mark.parametrize("catalogue", [1, 1200])
def test_each_photo_request_costs_the_same_calls_and_items_whatever_the_catalogue_size(
    api: LocalApi, staff: Headers, dynamodb_calls: Any, catalogue: int
) -> None:
    products = add_products([NewProduct(name=f"P{n}", price=Decimal(1), quantity=1) for n in range(catalogue)])
    product = products[-1].id
    costs = {}
    dynamodb_calls.clear()
    response = new_upload(api, staff, product)
    costs["upload"] = (dynamodb_calls.operations, dynamodb_calls.items_read)
    key = response.json()["upload"]["fields"]["key"]
    s3().put_object(Bucket=IMAGES_BUCKET, Key=key, Body=PNG)
    dynamodb_calls.clear()
    check(key, len(PNG))
    costs["check"] = (dynamodb_calls.operations, dynamodb_calls.items_read)
    image_id = response.json()["image"]["id"]
    dynamodb_calls.clear()
    api.request("PATCH", f"/api/products/{product}/images", json_body={"order": [image_id]}, headers=staff)
    costs["order"] = (dynamodb_calls.operations, dynamodb_calls.items_read)
    dynamodb_calls.clear()
    api.request("DELETE", f"/api/products/{product}/images/{image_id}", headers=staff)
    costs["delete"] = (dynamodb_calls.operations, dynamodb_calls.items_read)
    assert costs == {
        "upload": (["GetItem", "GetItem", "UpdateItem"], 2),
        "check": (["GetItem", "UpdateItem"], 1),
        "order": (["GetItem", "GetItem"], 2),  # already in that order: nothing to write
        "delete": (["GetItem", "GetItem", "UpdateItem"], 2),
    }


def test_editing_a_product_keeps_a_photo_accepted_since_the_edit_read_it(
    api: LocalApi, staff: Headers, product: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop_common.catalog_writes import read_product

    first = upload_and_check(api, staff, product)
    response = new_upload(api, staff, product)
    key = response.json()["upload"]["fields"]["key"]
    s3().put_object(Bucket=IMAGES_BUCKET, Key=key, Body=PNG)

    def read_then_check(product_id: int) -> Any:
        read = read_product(product_id)
        check(key, len(PNG))  # the checker accepts a photo between the edit's read and its write
        return read

    monkeypatch.setattr("catalog_admin.product_admin.read_product", read_then_check)
    assert api.request("PATCH", f"/api/products/{product}", json_body={"name": "Big teapot"}, headers=staff).status == 200
    assert [image["id"] for image in item(product)["images"]] == [first, response.json()["image"]["id"]]
    assert item(product)["name"] == "Big teapot"


def test_deleting_a_product_deletes_its_photo_files_and_no_others(api: LocalApi, staff: Headers) -> None:
    products = add_products([NewProduct(name=f"P{n}", price=Decimal(1), quantity=1) for n in range(12)])
    one, twelve = products[0].id, products[11].id  # products/1/ is a prefix of products/12... as text
    upload_and_check(api, staff, one)
    new_upload(api, staff, one)  # pending: its file may still arrive (the checker deletes it then)
    kept = upload_and_check(api, staff, twelve)
    kept_file = photo_file(twelve, kept)
    assert api.request("DELETE", f"/api/products/{one}", headers=staff).status == 204
    assert objects() == [kept_file]
