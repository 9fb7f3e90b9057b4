"""DynamoDB calls, items read and transaction items per order request, counted on an in-process
moto table: orders of 1, 10 and 50 products with and without offers, a quote, a cancellation,
a replayed Idempotency-Key, the order's detail and the staff list.

The active offers are read once per container and cached (shop_common.offer_store), so they are
counted as a warm container sees them: not at all. A cold container adds one Query.

    python bench/order_calls.py
"""

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "TABLE_NAME": "bench"}
)
os.environ.update({"JWT_SECRET_ID": "bench-jwt", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "ShopApi"})
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the figures, not the metrics' log lines

import boto3

from shoplocal.dynamodb_calls import CallRecorder
from shoplocal.gateway.invoke import LocalApi
from shoplocal.store.in_process import moto_in_process
from shoplocal.template import put_code_on_path, table_definition

put_code_on_path()

STARTED = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")


def main() -> None:
    with moto_in_process():
        from shop_common import offer_store, passwords
        from shop_common.catalog import add_products
        from shop_common.dynamo import client
        from shop_common.models import NewProduct
        from shop_common.new_accounts import create_user

        passwords.ITERATIONS = 1_000  # the KDF's cost is CPU, not DynamoDB
        client().create_table(TableName="bench", **table_definition())
        boto3.client("secretsmanager").create_secret(Name="bench-jwt", SecretString=secrets.token_urlsafe(48))
        products = add_products([NewProduct(name=f"P{n}", price=Decimal("2.50"), quantity=10**6) for n in range(100)])
        with_offers, plain = [p.id for p in products[:50]], [p.id for p in products[50:]]
        create_user("customer", "bench-password")
        create_user("staff", "bench-password", is_staff=True)
        api = LocalApi()

        def bearer(username: str) -> dict[str, str]:
            tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": "bench-password"}).json()
            return {"Authorization": f"Bearer {tokens['access']}"}

        customer, staff = bearer("customer"), bearer("staff")
        offers: list[dict[str, Any]] = [
            {"kind": "buy_x_get_y", "name": "2+1", "buy_products": with_offers, "buy_quantity": 2, "get_products": with_offers},
            {"kind": "percent_off", "name": "Loyal 5 %", "percent": "5", "products": with_offers, "max_uses_per_customer": 100},
            {"kind": "amount_off", "name": "1 off", "amount": "1", "min_subtotal": "5", "max_uses": 10_000, "stacks": True},
        ]
        offers[0] |= {"get_quantity": 1, "stacks": True, "max_uses": 10_000}
        offers[1] |= {"stacks": True}
        for offer in offers:
            assert api.request("POST", "/api/offers", json_body={"starts_at": STARTED, **offer}, headers=staff).status == 201
        offer_store.ACTIVE_OFFERS_CACHE_SECONDS = 3600.0  # a warm container
        offer_store.forget_active_offers()
        offer_store.active_offers(datetime.now(UTC))

        recorder = CallRecorder()
        recorder.attach(client())
        rows: list[tuple[str, str]] = []

        def measure(label: str, method: str, path: str, **arguments: Any) -> Any:
            recorder.clear()
            response = api.request(method, path, **arguments)
            assert response.status < 300, (label, response.status, response.body)
            written = sum(len(call.params["TransactItems"]) for call in recorder.calls if call.operation == "TransactWriteItems")
            operations = ", ".join(recorder.operations)
            rows.append((label, f"{len(recorder.calls)} ({operations}) | {recorder.items_read} | {written}"))
            return response

        def body(ids: list[int], quantity: int = 3) -> dict[str, Any]:
            return {"parts": [{"product": product, "quantity_in_order": quantity} for product in ids]}

        for size in (1, 10, 50):
            measure(f"order of {size}, no offer applies", "POST", "/api/order", json_body=body(plain[:size]), headers=customer)
            offered = body(with_offers[:size])
            measure(f"order of {size}, three offers apply", "POST", "/api/order", json_body=offered, headers=customer)
        measure("quote of 50, three offers", "POST", "/api/order/quote", json_body=body(with_offers), headers=customer)
        keyed = {**customer, "Idempotency-Key": "bench-1"}
        ten = body(with_offers[:10])
        placed = measure("order of 10 with an Idempotency-Key", "POST", "/api/order", json_body=ten, headers=keyed)
        measure("the same key replayed", "POST", "/api/order", json_body=body(with_offers[:10]), headers=keyed)
        order_id = placed.json()["id"]
        measure("order detail (owner)", "GET", f"/api/orders/{order_id}", headers=customer)
        measure("cancel that order (10 products, 3 offers)", "POST", f"/api/orders/{order_id}/cancel", headers=customer)
        measure("staff: all orders, a page of 100", "GET", "/api/orders", headers=staff)
        measure("staff: one user's cancelled orders", "GET", "/api/orders", query_string="user=1&status=cancelled", headers=staff)

        print("| request | DynamoDB calls | items read | transaction items |")
        print("|---|---|---:|---:|")
        for label, figures in rows:
            print(f"| {label} | {figures} |")


if __name__ == "__main__":
    main()
