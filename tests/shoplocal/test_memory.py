"""Reads alone do not grow the local server's memory: 5,000 requests through the local gateway,
the handlers and the embedded store (moto with the store's patches, in this process) leave the
number of live Python objects and of allocated memory blocks where they were.

moto's instance tracker kept every `Item` ever built (~153 per products page, ~100 KB a page,
never freed); any such leak in the gateway, the handlers or the store adds thousands of objects
per thousand requests. Counted, not timed: the same requests give the same counts."""

import gc
import json
import sys
from decimal import Decimal
from typing import Any

from conftest import SECRET_NAME, TABLE_NAME
from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.gateway.local_gateway import GatewayRequest, LocalGateway
from shoplocal.template import TEMPLATE_PATH

REQUESTS = 5_004  # whole rounds of the 6 requests
WARM_UP = 300  # whole rounds too: the measured rounds start with a sign-in
# Allowances for what legitimately changes between the two counts (caches filling to their
# bound, interned strings): far below the ~20 objects per request a leak of one item costs.
MAX_NEW_OBJECTS = 3_000
MAX_NEW_BLOCKS = 15_000


def live_objects() -> tuple[int, int]:
    gc.collect()
    return len(gc.get_objects()), sys.getallocatedblocks()


def test_read_requests_leave_memory_flat(new_user: Any) -> None:
    products = add_products([NewProduct(name=f"Walnut mug {n}", price=Decimal("4.50"), quantity=n % 4) for n in range(30)])
    gateway = LocalGateway(TEMPLATE_PATH, refs={"ShopTable": TABLE_NAME, "JwtSigningSecret": SECRET_NAME}, overrides={})
    _, username, password = new_user()
    credentials = json.dumps({"username": username, "password": password}).encode()
    requests = [
        ("POST", "/api/auth", ""),  # a sign-in reads; it also keeps the token fresh on a slow machine
        ("GET", "/api/products", "limit=5"),
        ("GET", "/api/products", "limit=5&in_stock=true"),
        ("GET", f"/api/products/{products[7].id}", ""),
        ("GET", "/api/products", "search=walnut&limit=5"),
        ("GET", "/api/my-orders", ""),
    ]
    token = ""

    def serve(count: int) -> None:
        nonlocal token
        for number in range(count):
            method, path, query = requests[number % len(requests)]
            headers = (
                [("content-type", "application/json")]
                if method == "POST"
                else [("authorization", f"Bearer {token}")]
                if path == "/api/my-orders"
                else []
            )
            response = gateway.handle(GatewayRequest(method, path, query, headers, credentials if method == "POST" else b""))
            assert response.status == 200, response.body
            if method == "POST":
                token = json.loads(response.body)["access"]

    serve(WARM_UP)
    objects_before, blocks_before = live_objects()
    serve(REQUESTS)
    objects_after, blocks_after = live_objects()
    assert objects_after - objects_before < MAX_NEW_OBJECTS
    assert blocks_after - blocks_before < MAX_NEW_BLOCKS
