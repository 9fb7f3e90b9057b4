"""Start-up times and request rates of the local server (`make run`), and what its two layers
cost: the same requests with the handler called in-process (no HTTP bridge) on the same
embedded store, and in-process on an in-process moto (no HTTP at all).

    python bench/local_server.py [--requests 300] [--orders 10000]

Figures go to docs/performance.md by hand; they are this machine's, not a target.
"""

import argparse
import contextlib
import http.client
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from local_server import LocalServer, start_server  # noqa: E402 - after the path is set
from shoplocal.gateway.invoke import LocalApi  # noqa: E402
from shoplocal.store import local_store  # noqa: E402
from shoplocal.template import put_code_on_path  # noqa: E402

put_code_on_path()

Send = Callable[[str, str, Any, dict[str, str]], int]


def timed_start(data_dir: Path, api_port: int | None = None, db_port: int | None = None) -> tuple[LocalServer, float]:
    started = time.perf_counter()
    server = start_server(data_dir, api_port=api_port, db_port=db_port)
    return server, time.perf_counter() - started


def http_sender(server: LocalServer) -> Send:
    connection = http.client.HTTPConnection("127.0.0.1", server.api_port, timeout=30)  # one keep-alive client

    def send(method: str, path: str, body: Any, headers: dict[str, str]) -> int:
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        response.read()
        return response.status

    return send


def use_function_environment(table: str, secret: str) -> None:
    """The functions' environment from template.yaml with `make run`'s overrides, so in-process
    calls do the same work (log level, metrics) as calls through the local server."""
    from shoplocal.template import functions, parameter_defaults, resolved_environment

    refs = {**parameter_defaults(), "ShopTable": table, "JwtSigningSecret": secret}
    for spec in functions().values():
        os.environ.update(resolved_environment(spec, refs))
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})


def in_process_sender() -> Send:
    use_function_environment(os.environ["TABLE_NAME"], os.environ["JWT_SECRET_ID"])
    api = LocalApi()

    def send(method: str, path: str, body: Any, headers: dict[str, str]) -> int:
        return api.request(method, path, json_body=body, headers=headers).status

    return send


def rate(send: Send, requests: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> float:
    for _ in range(5):  # warm: cold starts and connections are not what is measured here
        assert send(method, path, body, headers or {}) < 300
    started = time.perf_counter()
    for _ in range(requests):
        status = send(method, path, body, headers or {})
        assert status < 300, status
    return requests / (time.perf_counter() - started)


def token(send_json: Callable[[str, str, Any], Any], username: str, password: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {send_json('POST', '/api/auth', {'username': username, 'password': password})['access']}"}


def plenty_of_stock() -> int:
    """A product the order benchmark cannot sell out, added through the catalogue code."""
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    (product,) = add_products([NewProduct(name="Benchmark bulk item", price=Decimal("1.00"), quantity_in_stock=10**9)])
    return product.id


def rates(send: Send, headers: dict[str, str], product_id: int, requests: int) -> tuple[float, float]:
    order = {"parts": [{"product": product_id, "quantity_in_order": 1}]}
    return rate(send, requests, "GET", "/api/products"), rate(send, requests, "POST", "/api/order", order, headers)


def add_orders(count: int, user_id: int, product_id: int) -> None:
    """`count` orders written as the orders function writes them, from 4 threads."""
    from order_models import Order, OrderPart
    from order_store import write_order

    done = 0
    lock = threading.Lock()

    def worker(numbers: range) -> None:
        nonlocal done
        for number in numbers:
            part = OrderPart(product=product_id, quantity_in_order=1, product_name="Benchmark bulk item")
            write_order(Order(id=10**12 + number, parts=[part], created="2026-01-01T00:00:00Z", user=user_id), {product_id: 1})
            with lock:
                done += 1
                if done % 1000 == 0:
                    print(f"  {done}/{count} orders", file=sys.stderr)

    threads = [threading.Thread(target=worker, args=(range(n, count, 4),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def in_process_moto_rates(requests: int) -> tuple[float, float]:
    import boto3
    from moto import mock_aws

    from shopctl.demo import demo_products
    from shoplocal.store.moto_atomic import make_dynamodb_atomic
    from shoplocal.template import table_definition

    make_dynamodb_atomic()
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        from accounts import create_user
        from shop_common.catalog import add_products
        from shop_common.dynamo import client
        from shop_common.models import NewProduct
        from shop_common.secrets import jwt_signing_key

        client.cache_clear()  # the cached client and key belong to the embedded store
        jwt_signing_key.cache_clear()
        client().create_table(TableName=local_store.TABLE_NAME, **table_definition())
        boto3.client("secretsmanager").create_secret(Name=local_store.SECRET_NAME, SecretString=secrets.token_urlsafe(48))
        add_products([NewProduct(**vars(product)) for product in demo_products()])
        product_id = plenty_of_stock()
        create_user("bench", "bench-password")
        send = in_process_sender()
        api = LocalApi()
        headers = token(lambda m, p, b: api.request(m, p, json_body=b).json(), "bench", "bench-password")
        return rates(send, headers, product_id, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement (default 300)")
    parser.add_argument("--orders", type=int, default=10_000, help="orders in the store for the last start (default 10000)")
    args = parser.parse_args()
    results: list[tuple[str, str]] = []

    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        print("first start (creates the table, hashes the demo passwords, loads the demo catalogue) ...", file=sys.stderr)
        server, first = timed_start(data)
        ports = (server.api_port, server.db_port)
        server.stop()
        restarts = []
        for _ in range(3):
            server, seconds = timed_start(data, *ports)
            restarts.append(seconds)
            server.stop()
        results += [
            ("first start, fresh demo data", f"{first:.2f} s"),
            ("restart with the demo data (median of 3)", f"{statistics.median(restarts):.2f} s"),
        ]

        server = start_server(data, api_port=ports[0], db_port=ports[1])
        local_store.use_local_store(server.db_url)
        from accounts import create_user

        user_id = create_user("bench", "bench-password")
        product_id = plenty_of_stock()
        headers = server.sign_in("bench", "bench-password")
        print("request rates over HTTP and in-process on the same store ...", file=sys.stderr)
        http_rates = rates(http_sender(server), headers, product_id, args.requests)
        with contextlib.redirect_stdout(io.StringIO()):  # the handlers' log and metric lines
            direct_rates = rates(in_process_sender(), headers, product_id, args.requests)

        print(f"writing {args.orders} orders ...", file=sys.stderr)
        add_orders(args.orders, user_id, product_id)
        server.stop()
        server, with_orders = timed_start(data, *ports)
        results.append((f"restart with {args.orders:,} more orders", f"{with_orders:.2f} s"))
        loaded_rates = rates(http_sender(server), headers, product_id, args.requests)
        server.stop()

    print("request rates in-process on in-process moto ...", file=sys.stderr)
    with contextlib.redirect_stdout(io.StringIO()):
        moto_rates = in_process_moto_rates(args.requests)
    rows = [
        ("`make run` over HTTP (bridge + embedded store)", http_rates),
        ("handler in-process, same embedded store over HTTP", direct_rates),
        ("handler in-process, in-process moto (as the unit tests)", moto_rates),
        (f"`make run` over HTTP, {args.orders:,} orders in the store", loaded_rates),
    ]
    print("\n| start | time |\n|---|---:|")
    for label, value in results:
        print(f"| {label} | {value} |")
    print(f"\n| one client thread, {args.requests} requests | GET /api/products req/s | POST /api/order req/s |\n|---|---:|---:|")
    for label, (products, orders) in rows:
        print(f"| {label} | {products:.0f} | {orders:.0f} |")


if __name__ == "__main__":
    main()
