"""GET /api/products/{product_id}: one product by id, one GetItem."""

from decimal import Decimal
from typing import Any

import pytest

from shop_common import settings as shop_settings
from shop_common.catalog import add_products, remove_product
from shop_common.dynamo import client, to_attributes
from shop_common.models import NewProduct
from shoplocal.gateway.invoke import LocalApi


def test_a_product_by_id_is_what_the_listing_shows(api: LocalApi, dynamodb_calls: Any) -> None:
    add_products([NewProduct(name="Mug", description="A mug", price=Decimal("19.9"), quantity=3, sku="MUG-1")])
    dynamodb_calls.clear()
    response = api.request("GET", "/api/products/1")
    assert response.status == 200
    assert response.json() == {
        "id": 1, "name": "Mug", "description": "A mug", "price": 19.9, "quantity": 3, "sku": "MUG-1", "images": [],
    }  # fmt: skip
    assert dynamodb_calls.operations == ["GetItem"]
    assert response.json() == api.request("GET", "/api/products").json()["results"][0]


def test_images_are_shown_in_display_order(api: LocalApi) -> None:
    (mug,) = add_products([NewProduct(name="Mug", price=Decimal(1), quantity=1)])
    images = [
        {"id": "b", "key": "products/1/b.png", "alt": "side", "width": 640, "height": 480},
        {"id": "a", "key": "products/1/a.jpeg", "alt": "", "width": 10, "height": 20},
    ]
    client().update_item(
        TableName=shop_settings.table_name(),
        Key=to_attributes({"PK": f"PRODUCT#{mug.id}", "SK": "PRODUCT"}),
        UpdateExpression="SET images = :images",
        ExpressionAttributeValues=to_attributes({":images": images}),
    )
    shown = api.request("GET", f"/api/products/{mug.id}").json()["images"]
    assert [(image["id"], image["alt"], image["width"], image["height"]) for image in shown] == [
        ("b", "side", 640, 480),
        ("a", "", 10, 20),
    ]
    assert shown[0]["url"].endswith("/products/1/b.png")
    assert api.request("GET", "/api/products").json()["results"][0]["images"] == shown


def test_an_unknown_or_deleted_product_is_a_json_404(api: LocalApi) -> None:
    add_products([NewProduct(name="Mug", price=Decimal(1), quantity=1)])
    remove_product(1)
    for product_id in (1, 2, 2**53):
        response = api.request("GET", f"/api/products/{product_id}")
        assert response.status == 404
        assert response.json()["detail"] == "Not found."


@pytest.mark.parametrize("product_id", ["abc", "0", "-1", "1.5", "1e3", str(2**53 + 1), "9" * 30, "%20"])
def test_a_non_integer_or_out_of_range_id_is_400_and_costs_nothing(api: LocalApi, dynamodb_calls: Any, product_id: str) -> None:
    dynamodb_calls.clear()
    response = api.request("GET", f"/api/products/{product_id}")
    assert response.status == 400, response.body
    assert [error["field"] for error in response.json()["errors"]] == ["product_id"]
    assert dynamodb_calls.calls == []
