"""A bounded load test of a deployed stack (or of `make run`): a steady request rate for a fixed
time, then latency percentiles and status counts per endpoint. Standard library only.

    python bench/loadtest.py --api-url https://abc123.execute-api.eu-west-1.amazonaws.com \
        --rate 50 --duration 60 [--username alice --password ...] [--order-product 7]

Bounds: at most --duration seconds (600 at most) and --max-requests requests, at most --rate
requests per second from --workers threads. What it sends:
- always: `GET /api/products` pages picked at random among the first ones (public, read-only);
- with --username/--password: one sign-in at the start, then `GET /api/my-orders` and now and
  then `POST /api/refresh` (sign-in itself costs a PBKDF2 derivation: it is not repeated);
- with --order-product: orders of 1 of that product now and then. THIS TAKES STOCK: use a test
  product on your own stack, never production data.

Read the results as docs/scaling.md ("Load test") explains. Exit status 1 if any request got a
5xx or no answer at all.
"""

import argparse
import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_DURATION_SECONDS = 600
PRODUCT_PAGES = 5  # pages 1-5 of the listing, 20 products each


@dataclass
class Results:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    lock: threading.Lock = field(default_factory=threading.Lock)
    elapsed: float = 0.0

    def record(self, endpoint: str, status: int, latency_ms: float) -> None:
        with self.lock:
            self.latencies_ms[endpoint].append(latency_ms)
            self.statuses[endpoint][status] += 1


@dataclass
class Client:
    api_url: str
    results: Results
    headers: dict[str, str] = field(default_factory=dict)

    def call(self, endpoint: str, method: str, path: str, body: Any = None, auth: bool = False) -> tuple[int, Any]:
        """One request; status 0 means no answer (network error or timeout)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if auth:
            headers.update(self.headers)
        request = urllib.request.Request(self.api_url + path, data=data, method=method, headers=headers)  # noqa: S310
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the user's API URL
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            status, payload = 0, b""
        self.results.record(endpoint, status, (time.perf_counter() - started) * 1000)
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, None


def sign_in(client: Client, username: str, password: str) -> str:
    status, body = client.call("POST /api/auth", "POST", "/api/auth", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"sign-in failed with {status}: {body}")
    client.headers = {"Authorization": f"Bearer {body['access']}"}
    return str(body["refresh"])


def choose_requests(args: argparse.Namespace, client: Client, refresh: str | None) -> list[tuple[int, Callable[[], None]]]:
    """(weight, request) pairs for the mix the arguments allow."""

    def products() -> None:
        client.call("GET /api/products", "GET", f"/api/products?limit=20&page={random.randint(1, PRODUCT_PAGES)}")

    def my_orders() -> None:
        client.call("GET /api/my-orders", "GET", "/api/my-orders", auth=True)

    def refresh_token() -> None:
        status, body = client.call("POST /api/refresh", "POST", "/api/refresh", {"refresh": refresh})
        if status == 200:
            client.headers = {"Authorization": f"Bearer {body['access']}"}

    def order() -> None:
        parts = [{"product": args.order_product, "quantity_in_order": 1}]
        client.call("POST /api/order", "POST", "/api/order", {"parts": parts}, auth=True)

    mix: list[tuple[int, Callable[[], None]]] = [(70, products)]
    if refresh is not None:
        mix += [(20, my_orders), (5, refresh_token)]
        if args.order_product is not None:
            mix.append((5, order))
    return mix


def run(args: argparse.Namespace) -> Results:
    results = Results()
    client = Client(args.api_url.rstrip("/"), results)
    refresh = sign_in(client, args.username, args.password) if args.username else None
    mix = choose_requests(args, client, refresh)
    weights, requests = [weight for weight, _ in mix], [request for _, request in mix]
    duration = min(args.duration, MAX_DURATION_SECONDS)
    budget = min(args.max_requests, int(args.rate * duration))
    start = time.monotonic()
    schedule_lock = threading.Lock()
    sent = 0

    def next_slot() -> float | None:
        """When this worker may send its next request (a steady rate), or None when done."""
        nonlocal sent
        with schedule_lock:
            if sent >= budget:
                return None
            slot = start + sent / args.rate
            sent += 1
        return slot if slot < start + duration else None

    def worker() -> None:
        while (slot := next_slot()) is not None:
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            random.choices(requests, weights)[0]()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.elapsed = time.monotonic() - start
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: Results) -> bool:
    """Print the table; True when every request got an answer below 500."""
    elapsed = results.elapsed
    total = sum(len(values) for values in results.latencies_ms.values())
    print(f"\n{total} requests in {elapsed:.1f} s ({total / max(elapsed, 1e-9):.1f}/s)\n")
    print("| endpoint | requests | 2xx | 4xx | 429 | 5xx | no answer | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    healthy = True
    for endpoint in sorted(results.latencies_ms):
        values, statuses = results.latencies_ms[endpoint], results.statuses[endpoint]
        count = {
            "2xx": sum(n for s, n in statuses.items() if 200 <= s < 300),
            "4xx": sum(n for s, n in statuses.items() if 400 <= s < 500 and s != 429),
            "429": statuses.get(429, 0),
            "5xx": sum(n for s, n in statuses.items() if s >= 500),
            "none": statuses.get(0, 0),
        }
        healthy = healthy and count["5xx"] == 0 and count["none"] == 0
        counts = " | ".join(str(count[kind]) for kind in ("2xx", "4xx", "429", "5xx", "none"))
        times = [statistics.median(values), percentile(values, 0.95), percentile(values, 0.99), max(values)]
        print(f"| {endpoint} | {len(values)} | {counts} | " + " | ".join(f"{ms:.0f}" for ms in times) + " |")
    return healthy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-url", required=True, help="the stack's ApiUrl output (or http://127.0.0.1:3000)")
    parser.add_argument("--rate", type=float, default=20, help="requests per second (default 20)")
    parser.add_argument("--duration", type=float, default=60, help=f"seconds (default 60, at most {MAX_DURATION_SECONDS})")
    parser.add_argument("--max-requests", type=int, default=10_000, help="stop after this many requests (default 10000)")
    parser.add_argument("--workers", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--username", help="sign in once, then list orders and refresh tokens")
    parser.add_argument("--password", help="the user's password")
    parser.add_argument("--order-product", type=int, help="also order 1 of this product now and then (TAKES STOCK)")
    args = parser.parse_args()
    if args.rate <= 0 or args.duration <= 0 or args.workers < 1:
        parser.error("--rate, --duration and --workers must be positive")
    if bool(args.username) != bool(args.password):
        parser.error("--username and --password go together")
    if args.order_product is not None and not args.username:
        parser.error("--order-product needs --username and --password")
    results = run(args)
    if not report(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
