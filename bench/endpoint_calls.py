"""DynamoDB calls and items read per endpoint, counted on an in-process moto table.

Counting calls and items, not timing moto, tells what a request costs on DynamoDB: moto's
Query and transactions slow down with table size, DynamoDB's do not.

    python bench/endpoint_calls.py [--products 1200]
    python bench/endpoint_calls.py --filters --products 100000   # filters, search, orderings
"""

import argparse
import os
import secrets
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update(
    {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "TABLE_NAME": "bench"}
)
os.environ.update({"JWT_SECRET_ID": "bench-jwt", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "ShopApi"})

import boto3

from shoplocal.dynamodb_calls import CallRecorder
from shoplocal.gateway.invoke import LocalApi
from shoplocal.store.in_process import moto_in_process
from shoplocal.template import put_code_on_path, table_definition

put_code_on_path()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1200, help="catalogue size (default 1200: two listing buckets)")
    parser.add_argument("--filters", action="store_true", help="measure the filters, search and orderings instead")
    args = parser.parse_args()
    if args.filters:
        measure_filters(args.products)
        return

    with moto_in_process():
        from shop_common import catalog, passwords
        from shop_common.catalog import add_products
        from shop_common.cursors import encode_cursor
        from shop_common.dynamo import client
        from shop_common.models import NewProduct
        from shop_common.new_accounts import create_user

        passwords.ITERATIONS = 1_000  # the KDF's cost is CPU, not DynamoDB
        client().create_table(TableName="bench", **table_definition())
        boto3.client("secretsmanager").create_secret(Name="bench-jwt", SecretString=secrets.token_urlsafe(48))
        print(f"loading {args.products} products ...", file=sys.stderr)
        add_products([NewProduct(name=f"P{n}", price=Decimal("1.00"), quantity=1000) for n in range(args.products)])
        create_user("bench", "bench-password")

        api = LocalApi()
        recorder = CallRecorder()
        recorder.attach(client())
        rows: list[tuple[str, str, int]] = []

        def measure(label: str, method: str, path: str, **request: Any) -> Any:
            recorder.clear()
            response = api.request(method, path, **request)
            rows.append((label, " + ".join(recorder.operations) or "none", recorder.items_read))
            return response.json() if response.body else None

        tokens = measure("POST /api/auth", "POST", "/api/auth", json_body={"username": "bench", "password": "bench-password"})
        measure("POST /api/refresh", "POST", "/api/refresh", json_body={"refresh": tokens["refresh"]})
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        measure("GET /api/me", "GET", "/api/me", headers=headers)
        measure("PATCH /api/me", "PATCH", "/api/me", json_body={"first_name": "Bench"}, headers=headers)
        change = {"current_password": "bench-password", "new_password": "another bench passphrase 9"}
        measure("POST /api/me/password", "POST", "/api/me/password", json_body=change, headers=headers)
        measure("GET /api/me (a revoked token: 401)", "GET", "/api/me", headers=headers)
        credentials = {"username": "bench", "password": change["new_password"]}
        measure("POST /api/logout (the account's first)", "POST", "/api/logout", json_body={"refresh": tokens["refresh"]})
        tokens = api.request("POST", "/api/auth", json_body=credentials).json()
        measure("POST /api/logout (later ones)", "POST", "/api/logout", json_body={"refresh": tokens["refresh"]})
        tokens = api.request("POST", "/api/auth", json_body=credentials).json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        first = measure("GET /api/products (page 1, limit 50)", "GET", "/api/products")
        second = measure("GET next link (page 2)", "GET", "/api/products", query_string=urlsplit(first["next"]).query)
        third = measure("GET next link (page 3)", "GET", "/api/products", query_string=urlsplit(second["next"]).query)
        measure("GET previous link (page 2)", "GET", "/api/products", query_string=urlsplit(third["previous"]).query)
        crossing = encode_cursor("a", 950, 20, 50)
        measure(
            "GET next link (page 20: ids 951-1000, across a bucket)",
            "GET",
            "/api/products",
            query_string=f"page=20&limit=50&cursor={crossing}",
        )
        page_of_100 = measure("GET ?limit=100 (page 1)", "GET", "/api/products", query_string="limit=100")
        measure("GET next link (limit 100)", "GET", "/api/products", query_string=urlsplit(page_of_100["next"]).query)
        widest_page = measure("GET ?limit=1000 (page 1)", "GET", "/api/products", query_string="limit=1000")
        measure("GET next link (limit 1000)", "GET", "/api/products", query_string=urlsplit(widest_page["next"]).query)
        measure("GET ?page=2&limit=1000 (typed)", "GET", "/api/products", query_string="page=2&limit=1000")
        measure("GET ?page=last&limit=1000", "GET", "/api/products", query_string="page=last&limit=1000")
        measure("GET ?page=0 (404)", "GET", "/api/products", query_string="page=0")
        measure("GET ?page=20&limit=50 (ids 951-1000: two buckets)", "GET", "/api/products", query_string="page=20&limit=50")
        last_page = (args.products + 49) // 50
        measure(f"GET ?page={last_page} (last page)", "GET", "/api/products", query_string=f"page={last_page}")
        for size in (1, 3, 10):
            parts = [{"product": n + 1, "quantity_in_order": 1} for n in range(size)]
            measure(f"POST /api/order ({size} products)", "POST", "/api/order", json_body={"parts": parts}, headers=headers)
        short = [{"product": 1, "quantity_in_order": 5000}]
        measure("POST /api/order (insufficient stock)", "POST", "/api/order", json_body={"parts": short}, headers=headers)
        measure("GET /api/my-orders", "GET", "/api/my-orders", headers=headers)

        # Hostile input (docs/data-model.md, "Worst case per request"): a run of 1,000 empty
        # buckets (ids never used cost what deleted ones do: neither leaves a bucket counter).
        catalog.allocate_ids(1000 * catalog.BUCKET_SIZE)
        far = add_products([NewProduct(name=f"F{n}", price=Decimal("1.00"), quantity=1000) for n in range(100)])
        page = last_page + 1
        measure(
            "GET ?page=3&limit=5&cursor=YjEwMDAwMDA (the issue's reproducer)",
            "GET",
            "/api/products",
            query_string="page=3&limit=5&cursor=YjEwMDAwMDA",
        )
        for label, cursor in (
            ("next link over 1,000 empty buckets", encode_cursor("a", args.products, page, 50)),
            ("previous link over 1,000 empty buckets", encode_cursor("b", far[0].id, page, 50)),
            ("cursor before the largest id", encode_cursor("b", 10**16 - 1, page, 50)),
            ("cursor after the largest id (404)", encode_cursor("a", 10**16 - 1, page, 50)),
        ):
            measure(f"GET {label}", "GET", "/api/products", query_string=f"page={page}&limit=50&cursor={cursor}")
        # A catalogue thinned to one product per bucket (more than 99.9 % of its ids deleted).
        thinned = []
        for n in range(60):
            catalog.allocate_ids(catalog.BUCKET_SIZE - 1)
            thinned += add_products([NewProduct(name=f"T{n}", price=Decimal("1.00"), quantity=1000)])
        cursor = encode_cursor("a", far[-1].id, page, 50)
        measure(
            "GET next link into 60 buckets of one product",
            "GET",
            "/api/products",
            query_string=f"page={page}&limit=50&cursor={cursor}",
        )
        cursor = encode_cursor("b", thinned[-1].id, page, 50)
        measure(
            "GET previous link down 50 buckets of one product",
            "GET",
            "/api/products",
            query_string=f"page={page}&limit=50&cursor={cursor}",
        )
        measure("GET ?page=1000000000 (404)", "GET", "/api/products", query_string="page=1000000000")
        measure("GET ?limit=1000000000 (capped at 1000)", "GET", "/api/products", query_string="limit=1000000000")
        widest = [{"product": n % 50 + 1, "quantity_in_order": 1} for n in range(200)]
        measure("POST /api/order (200 parts, 50 products)", "POST", "/api/order", json_body={"parts": widest}, headers=headers)
        unknown = [{"product": 10**9 + n, "quantity_in_order": 1} for n in range(50)]
        measure("POST /api/order (50 unknown products)", "POST", "/api/order", json_body={"parts": unknown}, headers=headers)
        oldest = encode_cursor("o", 10**16 - 1)
        measure(
            "GET /api/my-orders?limit=100&cursor=<largest id>",
            "GET",
            "/api/my-orders",
            headers=headers,
            query_string=f"limit=100&cursor={oldest}",
        )

    print(f"\nDynamoDB calls per request ({args.products} products):\n")
    print("| request | calls | items read |")
    print("|---|---|---:|")
    for label, operations, items in rows:
        print(f"| {label} | {operations} | {items} |")


FILTERED_REQUESTS = [
    ("in stock, id order", "in_stock=true"),
    ("sold out, id order", "in_stock=false"),
    ("by price", "ordering=price"),
    ("by price, descending, in stock", "ordering=-price&in_stock=true"),
    ("price range 10.00-10.50 (by price)", "min_price=10&max_price=10.50"),
    ("price range 10.00-30.00 (by price)", "min_price=10&max_price=30"),
    ("price range 10.00-10.50, id order", "min_price=10&max_price=10.50&ordering=id"),
    ("search one word (1 name in 20)", "search=mug"),
    ("search two words", "search=dark+chocolate"),
    ("search + in stock", "search=mug&in_stock=true"),
    ("search + price range, by price", "search=tea&min_price=20&max_price=60&ordering=price"),
    ("search with a typo", "search=choclate"),
    ("search, one letter", "search=c"),
]


def measure_filters(count: int) -> None:
    """Calls and items read per filtered request (page 1 and its next link), on `count` products
    loaded with BatchWriteItem (the same items as the transactions write)."""
    with moto_in_process():
        from products import catalog_reads
        from shop_common.dynamo import client
        from shoplocal.catalogue_fill import fill_catalogue, sample_products

        catalog_reads.STATS_CACHE_SECONDS = 0.0  # every request pays for its count, as a cold container does
        client().create_table(TableName="bench", **table_definition())
        print(f"loading {count} products ...", file=sys.stderr)
        fill_catalogue(sample_products(count))
        api = LocalApi()
        recorder = CallRecorder()
        recorder.attach(client())
        print(f"\nDynamoDB calls per filtered request ({count:,} products, limit 50):\n")
        print("| request | page 1: calls | items | next link: calls | items | count |")
        print("|---|---|---:|---|---:|---:|")
        for label, query in FILTERED_REQUESTS:
            recorder.clear()
            page = api.request("GET", "/api/products", query_string=query).json()
            first = (" + ".join(recorder.operations), recorder.items_read)
            following = ("(no next page)", 0)
            if page.get("next"):
                recorder.clear()
                api.request("GET", "/api/products", query_string=urlsplit(page["next"]).query)
                following = (" + ".join(recorder.operations), recorder.items_read)
            print(f"| {label} (`{query}`) | {first[0]} | {first[1]} | {following[0]} | {following[1]} | {page['count']} |")
        recorder.clear()
        api.request("GET", "/api/products/7")
        print(f"| product by id | {' + '.join(recorder.operations)} | {recorder.items_read} | | | |")


if __name__ == "__main__":
    main()
