"""The load driver of the local-server benchmarks (`local_server.py`, `local_scale.py`): the same
requests to `make run` and to the Django peer from the same client threads (one keep-alive
connection each), in alternating rounds, and the store grown as the functions write."""

import argparse
import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass(frozen=True)
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int]


class Target:
    """One server under test: its address, and (for orders) a bearer token and products in stock."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.headers: dict[str, str] = {}
        self.order_plan: list[int] = []

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        payload = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        if response.status >= 300:
            raise RuntimeError(f"{self.name}: {method} {path} answered {response.status} {data[:200]!r}")
        return json.loads(data)

    def sign_in(self, username: str, password: str) -> None:
        access = self.call("POST", "/api/auth", {"username": username, "password": password})["access"]
        self.headers = {"Authorization": f"Bearer {access}"}

    def plan_orders(self, count: int) -> None:
        """`count` product ids, round-robin over the products in stock, never past their stock."""
        stock: dict[int, int] = {}
        path: str | None = "/api/products?limit=100"
        while path:
            page = self.call("GET", path)
            # The stock under either name: `quantity` (the original's) or `quantity_in_stock`.
            levels = {p["id"]: p["quantity"] if "quantity" in p else p["quantity_in_stock"] for p in page["results"]}
            stock.update({product_id: level for product_id, level in levels.items() if level > 0})
            path = _path_of(page["next"]) if page["next"] else None
        plan: list[int] = []
        while len(plan) < count and stock:
            for product_id in list(stock):
                if len(plan) == count:
                    break
                plan.append(product_id)
                stock[product_id] -= 1
                if not stock[product_id]:
                    del stock[product_id]
        if len(plan) < count:
            raise RuntimeError(f"{self.name} has {len(plan)} units in stock, {count} needed: seed it again")
        self.order_plan = plan


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def products_request(target: Target, number: int) -> Request:
    return "GET", "/api/products?limit=50", None, {}


def order_request(target: Target, number: int) -> Request:
    body = json.dumps({"parts": [{"product": target.order_plan[number], "quantity_in_order": 1}]}).encode()
    return "POST", "/api/order", body, {"Content-Type": "application/json", **target.headers}


def run_round(target: Target, build: Callable[[Target, int], Request], first: int, requests: int, clients: int) -> Round:
    """`requests` requests from `clients` threads, each with its own keep-alive connection."""
    numbers = iter(range(first, first + requests))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    def client() -> None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=60)
        mine: list[float] = []
        seen: Counter[int] = Counter()
        while True:
            with lock:
                number = next(numbers, None)
            if number is None:
                break
            method, path, body, headers = build(target, number)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                seen[response.status] += 1
            except (OSError, http.client.HTTPException):
                connection.close()  # a server that closes idle connections: the next request reconnects
                seen[0] += 1
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Round(
        rate=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        statuses=statuses,
    )


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float
    failed: int

    def cell(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.rate:.0f} req/s, p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms{failed}"


def measure(targets: list[Target], scenario: str, args: argparse.Namespace, first: int) -> dict[str, Figures]:
    """Alternating rounds over the targets; the median of each target's rounds."""
    build = products_request if scenario == "products" else order_request
    rounds: dict[str, list[Round]] = {target.name: [] for target in targets}
    for target in targets:  # warm: cold starts, connections and the first reads are not measured
        run_round(target, build, first, args.clients * 2, args.clients)
    first += args.clients * 2
    for _ in range(args.rounds):
        for target in targets:
            rounds[target.name].append(run_round(target, build, first, args.requests, args.clients))
        first += args.requests
    return {
        name: Figures(
            statistics.median(r.rate for r in results),
            statistics.median(r.p50_ms for r in results),
            statistics.median(r.p99_ms for r in results),
            sum(n for r in results for status, n in r.statuses.items() if status >= 300 or status == 0),
        )
        for name, results in rounds.items()
    }


def add_products(count: int) -> None:
    from shop_common.catalog import add_products as add
    from shop_common.models import NewProduct

    for start in range(0, count, 1000):
        add(
            [
                NewProduct(name=f"Bulk product {n}", price=Decimal("4.50"), quantity=100, description="Bench stock.")
                for n in range(start, min(start + 1000, count))
            ]
        )


def add_orders(count: int, username: str, password: str) -> None:
    """`count` orders written as the orders function writes them, from 4 threads, on one product."""
    from orders.store import BasketProduct, write_order
    from shop_common.catalog import add_products as add
    from shop_common.models import NewProduct
    from shop_common.new_accounts import create_user
    from shop_common.orders import Order, OrderPart
    from shop_common.stock import StockAsRead

    user_id = create_user(username, password)
    (product,) = add([NewProduct(name="Bench bulk item", price=Decimal("1.00"), quantity=10**9)])

    def worker(numbers: range) -> None:
        for number in numbers:
            part = OrderPart(product=product.id, quantity_in_order=1, product_name=product.name)
            order = Order(id=10**12 + number, parts=[part], created="2026-01-01T00:00:00Z", user=user_id)
            # Far from selling out; the price unguarded, as for a product not indexed.
            basket = {product.id: BasketProduct(product.name, product.price, StockAsRead(product.quantity), None)}
            write_order(order, {product.id: 1}, basket)

    threads = [threading.Thread(target=worker, args=(range(n, count, 4),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
