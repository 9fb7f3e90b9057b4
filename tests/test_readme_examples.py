"""The README's example requests, run in its order against `make run`'s demo data (seeded into
the test table as `make run` seeds it), answer what the README shows: ids, names, prices, stock,
search results, error messages and offer hints are read out of the README, so an example that
drifts from the demo data (or the API) fails here."""

import json
import os
import re
from typing import Any

import boto3
import pytest

from conftest import IMAGES_BUCKET, bearer
from shopctl.demo import DEMO_USERS, seed_demo
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
_START = README.index("API=http://127.0.0.1:3000")
BLOCK = README[_START : README.index("```", _START)]
# The answers' comments, their continuation lines joined ("...,\n#      "x":1" -> "...,"x":1").
FLAT = re.sub(r"\n# {2,}", "", BLOCK)


def shown(pattern: str, text: str = FLAT) -> re.Match[str]:
    found = re.search(pattern, text, re.DOTALL)
    assert found, f"the README no longer shows {pattern}"
    return found


def sent(command: str) -> Any:
    """The JSON body (`-d '...'`) of the first example request that starts with `command`."""
    return json.loads(shown(re.escape(command) + r".*?-d '(\{.*?\})'", BLOCK)[1])


def number(text: str) -> Any:
    return json.loads(text)


@pytest.fixture
def demo(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The demo shop (its photos too: the session's images bucket, made again if a test before
    this one in the worker deleted it), and an access token of its staff user."""
    s3 = boto3.client("s3")
    # The session's bucket, whatever a test before this one in the worker set or deleted.
    monkeypatch.setenv("IMAGES_BUCKET", IMAGES_BUCKET)
    wanted = os.environ["IMAGES_BUCKET"]
    if wanted not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=wanted, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # conftest.REGION
    seed_demo()
    staff = next(user for user in DEMO_USERS if user.is_staff)
    tokens = api.request("POST", "/api/auth", json_body={"username": staff.username, "password": staff.password}).json()
    return bearer(tokens["access"])


def test_the_catalogue_examples_show_the_demo_catalogue(api: LocalApi, demo: dict[str, str]) -> None:
    query = shown(r'curl -s "\$API/api/products\?(page=1&limit=2)"')[1]
    page = api.request("GET", "/api/products", query_string=query).json()
    listed = shown(r'\{"count":(\d+),"next":"http://127\.0\.0\.1:3000(/api/products\?[^"]+)","previous":null,')
    assert page["count"] == int(listed[1])
    assert page["next"].endswith(listed[2])
    first = shown(
        r'"results":\[\{"id":(\d+),"name":"([^"]+)","description":"\.\.\.","price":([0-9.]+),"quantity":(\d+),"sku":"([^"]+)",'
        r'"images":\[\{"id":"(\w+)","url":"\.\.\.","alt":"([^"]+)","width":(\d+),"height":(\d+)\}'
    )
    product = page["results"][0]
    assert [product[name] for name in ("id", "name", "price", "quantity", "sku")] == [
        int(first[1]),
        first[2],
        number(first[3]),
        int(first[4]),
        first[5],
    ]
    image = product["images"][0]
    assert [image["id"], image["alt"], image["width"], image["height"]] == [first[6], first[7], int(first[8]), int(first[9])]

    search = shown(r'curl -s "\$API/api/products\?search=(\w+)"\s+# finds the (\d+) \w+, "([^"]+)" first')
    found = api.request("GET", "/api/products", query_string=f"search={search[1]}").json()
    assert (found["count"], found["results"][0]["name"]) == (int(search[2]), search[3])

    # Staff add a product (it gets the next id), change it, and cannot take more than its stock.
    added = api.request("POST", "/api/products", json_body=sent("curl -s -X POST $API/api/products "), headers=demo)
    assert added.status == 201
    assert added.json() == json.loads(shown(r'# 201 (\{"id":\d+,"name":"Teapot".*?\})\n', BLOCK)[1])
    product_id = added.json()["id"]
    changed = api.request(
        "PATCH", f"/api/products/{product_id}", json_body=sent(f"curl -s -X PATCH $API/api/products/{product_id} "), headers=demo
    )
    assert changed.json() == json.loads(shown(r'# 200 (\{"id":\d+,"name":"Teapot".*?\})\n', BLOCK)[1])
    taken = api.request(
        "POST",
        f"/api/products/{product_id}/stock",
        json_body=sent(f"curl -s -X POST $API/api/products/{product_id}/stock "),
        headers=demo,
    )
    assert taken.status == 409
    assert taken.json()["detail"] == shown(r'# 409 \{"detail":"(Cannot take [^"]+)"')[1]


def test_the_account_and_order_examples_show_the_demo_shop(api: LocalApi, demo: dict[str, str]) -> None:
    signup = sent("curl -s -X POST $API/api/register ")
    registered = api.request("POST", "/api/register", json_body=signup)
    assert registered.status == 201
    alice = registered.json()["id"]
    assert alice == int(shown(r'# 201 \{"id":(\d+),"username":"alice"')[1])
    tokens = api.request("POST", "/api/auth", json_body=sent("curl -s -X POST $API/api/auth ")).json()
    access = bearer(tokens["access"])
    assert api.request("GET", "/api/me", headers=access).json()["id"] == int(shown(r'# \{"id":(\d+),"username":"alice"')[1])

    # An order of 2 of product 1, then one more than its stock.
    order_body = sent("curl -s -X POST $API/api/order ")
    placed = api.request("POST", "/api/order", json_body=order_body, headers=access)
    assert placed.status == 201
    order = placed.json()
    assert order["parts"] == [json.loads(shown(r'# 201 \{"id":\d+,"parts":\[(\{"product":\d+,[^}]*\})\]')[1])]
    totals = shown(r'"user":(\d+),"status":"placed","subtotal":([0-9.]+),"discount_total":([0-9.]+),"total":([0-9.]+),')
    assert [order["user"], order["subtotal"], order["discount_total"], order["total"]] == [
        int(totals[1]),
        *(number(value) for value in totals.groups()[1:4]),
    ]
    short = shown(r'"message":"Insufficient stock: (\d+) requested, (\d+) available\."')
    too_many = {"parts": [{**order_body["parts"][0], "quantity_in_order": int(short[1])}]}
    refused = api.request("POST", "/api/order", json_body=too_many, headers=access).json()
    assert refused["errors"][0]["message"] == f"Insufficient stock: {short[1]} requested, {short[2]} available."

    # The buy-one-get-one offer: a hint for one, the discount for two, the order of what the quote showed.
    offer = api.request("POST", "/api/offers", json_body=sent("curl -s -X POST $API/api/offers "), headers=demo)
    assert offer.status == 201, offer.body
    one = api.request("POST", "/api/order/quote", json_body={"parts": [{"product": 1, "quantity_in_order": 1}]}, headers=access)
    hint = shown(
        r'# 200 \{\.\.\.,"total":([0-9.]+),"offers":\[\],'
        r'"hints":\[\{"offer":\d+,"product":\d+,"add_quantity":\d+,"message":"([^"]+)"'
    )
    assert (one.json()["total"], one.json()["hints"][0]["message"]) == (number(hint[1]), hint[2])
    two = api.request("POST", "/api/order/quote", json_body=order_body, headers=access).json()
    quoted = shown(
        r'"discount_total":([0-9.]+),"total":([0-9.]+),"currency":"USD","offers":\[(\{"id":\d+,"name":"[^"]+","amount":[0-9.]+\})\]'
    )
    assert [two["discount_total"], two["total"], two["offers"]] == [number(quoted[1]), number(quoted[2]), [json.loads(quoted[3])]]
    expected = json.loads(shown(r"-d '(\{\"parts\": [^']*\"expected_total\"[^']*\})'", BLOCK)[1])
    assert api.request("POST", "/api/order", json_body=expected, headers=access).json()["total"] == expected["expected_total"]
    # Without the offer, the same order costs another total: 409 price_changed.
    assert api.request("DELETE", f"/api/offers/{offer.json()['id']}", headers=demo).status == 204
    changed = api.request("POST", "/api/order", json_body=expected, headers=access)
    assert changed.status == 409
    assert changed.json()["detail"] == shown(r'# 409 \{"detail":"(The order would cost [^"]+)"')[1]
