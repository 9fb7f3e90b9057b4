"""Durability of the local store (`make run`): `kill -9` at random moments under a stream of
concurrent orders, and how long a restart takes with the demo data and with 100,000 items.

    python bench/store_durability.py [--kills 5] [--items 100000] [--clients 8]

For each kill: orders from `--clients` threads until a random number of them are acknowledged,
then `kill -9`, restart on the same data, and count acknowledged orders missing, orders whose
stock decrement and order item did not survive together, and temporary files left. Restart time
is wall time from launching `python -m shoplocal.run` until the API answers. Figures go to
docs/performance.md by hand; they are this machine's, not a target.
"""

import argparse
import http.client
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import boto3  # noqa: E402

from local_server import LocalServer, shopctl, start_server  # noqa: E402 - after the path is set
from shopctl.demo import DEMO_USERS  # noqa: E402
from shoplocal.store import compaction, snapshots  # noqa: E402
from shoplocal.store.local_store import TABLE_NAME  # noqa: E402

DEMO = next(user for user in DEMO_USERS if not user.is_staff)
STOCK = 10_000_000


def timed_start(data: Path, *extra: str) -> tuple[LocalServer, float]:
    started = time.perf_counter()
    server = start_server(data, *extra)
    return server, time.perf_counter() - started


def cpu_seconds(server: LocalServer) -> float:
    """CPU time the server's main process has used (Linux): unlike wall time, it does not grow
    when other work shares the machine."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def restore_line(server: LocalServer) -> str:
    started = next((line.strip() for line in server.log().splitlines() if line.startswith("Started in")), "?")
    return f"{started.removesuffix(' Ctrl-C to stop.')} CPU {cpu_seconds(server):.2f} s"


def table_items(server: LocalServer) -> list[dict[str, Any]]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.db_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - the local store takes any
    )
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=TABLE_NAME):
        items += page["Items"]
    return items


def load_products(server: LocalServer, folder: Path, count: int, stock: int, prefix: str) -> list[int]:
    catalogue = folder / f"{prefix}.csv"
    rows = "".join(f"{prefix} {n},{1 + n % 50}.00,{stock}\n" for n in range(count))
    catalogue.write_text("name,price,quantity\n" + rows)
    result = shopctl("load-products", str(catalogue), db_port=server.db_port)
    assert result.returncode == 0, result.stderr
    return [int(i["id"]["N"]) for i in table_items(server) if i.get("name", {}).get("S", "").startswith(f"{prefix} ")]


class OrderStream:
    def __init__(self, server: LocalServer, headers: dict[str, str], products: list[int], clients: int, seed: int) -> None:
        self.server, self.headers, self.products = server, headers, products
        self.acknowledged: dict[int, Counter[int]] = {}
        self.completed: list[tuple[float, float]] = []  # (when answered, seconds it took)
        self.unanswered = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._place_orders, args=(seed + n,)) for n in range(clients)]

    def _place_orders(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            parts = Counter({p: rng.randint(1, 3) for p in rng.sample(self.products, rng.randint(1, 3))})
            body = {"parts": [{"product": p, "quantity_in_order": q} for p, q in parts.items()]}
            started = time.perf_counter()
            try:
                reply = self.server.request("POST", "/api/order", body, self.headers)
            except (OSError, http.client.HTTPException):
                with self.changed:
                    self.unanswered += 1
                return
            if reply.status != 201:
                raise RuntimeError(f"order failed: {reply.status} {reply.body[:200]!r}")
            with self.changed:
                self.acknowledged[reply.json()["id"]] = parts
                self.completed.append((time.perf_counter(), time.perf_counter() - started))
                self.changed.notify_all()

    def run_until(self, orders: int, then: Any, *, wait: bool = True) -> None:
        """Place orders until `orders` are acknowledged (if `wait`), call `then`, and stop."""
        for thread in self.threads:
            thread.start()
        if wait:
            with self.changed:
                self.changed.wait_for(lambda: len(self.acknowledged) >= orders, timeout=3600)
        then()
        self.stop.set()
        for thread in self.threads:
            thread.join()


def survivors(server: LocalServer, products: list[int], acknowledged: dict[int, Counter[int]]) -> tuple[int, int, int]:
    """(acknowledged orders lost, unacknowledged orders that survived, products whose stock does
    not match the surviving orders, plus orders without their id guard)."""
    items = table_items(server)
    orders = {int(i["id"]["N"]): i for i in items if i["SK"]["S"].startswith("ORDER#") and "parts" in i}
    guards = {int(i["PK"]["S"].removeprefix("ORDER#")) for i in items if i["SK"]["S"] == "ORDER"}
    stock = {int(i["id"]["N"]): int(i["quantity_in_stock"]["N"]) for i in items if i["PK"]["S"].startswith("PRODUCT#")}
    sold: Counter[int] = Counter()
    for order in orders.values():
        for part in order["parts"]["L"]:
            sold[int(part["M"]["product"]["N"])] += int(part["M"]["quantity_in_order"]["N"])
    half = sum(1 for p in products if stock[p] != STOCK - sold[p]) + len(guards ^ set(orders))
    return len(set(acknowledged) - set(orders)), len(set(orders) - set(acknowledged)), half


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def kill_runs(folder: Path, kills: int, clients: int, rng: random.Random) -> None:
    data = folder / "kills"
    server = start_server(data)
    products = load_products(server, folder, 4, STOCK, "Durable")
    headers = server.sign_in(DEMO.username, DEMO.password)
    acknowledged: dict[int, Counter[int]] = {}
    print(f"kill -9 under {clients} concurrent order clients:")
    print("| kill | acknowledged | in flight | lost | unacknowledged survivors | half-survived | temp files | restart |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kill in range(1, kills + 1):
        stream = OrderStream(server, headers, products, clients, rng.randrange(2**32))
        stream.run_until(rng.randint(50, 400), server.process.kill)
        server.process.wait()
        acknowledged |= stream.acknowledged
        server, seconds = timed_start(data)
        lost, extra, half = survivors(server, products, acknowledged)
        temporary = len(list(data.glob("*.tmp")) + list(data.glob(".*.tmp")))
        row = [kill, len(stream.acknowledged), stream.unanswered, lost, extra, half, temporary, f"{seconds:.2f} s"]
        print("| " + " | ".join(str(cell) for cell in row) + " |", f"({restore_line(server)})")
    print(f"total acknowledged: {len(acknowledged)}; unacknowledged survivors and half-survived are cumulative")
    assert server.stop() == 0


def grow_catalogue(data: Path, extra: int) -> None:
    """Add `extra` products (shaped as the demo's, catalogue counters kept) to a stopped server's
    data: a snapshot of that size, as compaction would write it, with no journal left."""
    state = compaction.load(data)
    table = state.tables[TABLE_NAME]
    template = next(item for item in table.items.values() if item["PK"]["S"].startswith("PRODUCT#"))
    meta = next(item for item in table.items.values() if item["PK"]["S"] == "CATALOG" and item["SK"]["S"] == "META")
    first = int(meta["last_id" if "last_id" in meta else "next_id"]["N"]) + 1
    buckets: Counter[int] = Counter()
    for product_id in range(first, first + extra):
        item = {
            **template,
            "PK": {"S": f"PRODUCT#{product_id}"},
            "GSI1PK": {"S": f"CATALOG#{product_id // 1000}"},
            "GSI1SK": {"S": f"PRODUCT#{product_id:012d}"},
            "id": {"N": str(product_id)},
            "name": {"S": f"Bulk product {product_id}"},
            "quantity_in_stock": {"N": str(STOCK)},
        }
        table.items[table.key_of(item, "bench")] = item
        buckets[product_id // 1000] += 1
    for item in table.items.values():
        if item["PK"]["S"] == "CATALOG":
            if item["SK"]["S"] == "META":
                for name in ("next_id", "last_id", "product_count"):
                    if name in item:
                        item[name] = {"N": str(int(item[name]["N"]) + extra)}
            elif item["SK"]["S"].startswith("BUCKET#"):
                bucket = int(item["SK"]["S"].removeprefix("BUCKET#"))
                item["product_count"] = {"N": str(int(item["product_count"]["N"]) + buckets.pop(bucket, 0))}
    for bucket, count in buckets.items():
        item = {"PK": {"S": "CATALOG"}, "SK": {"S": f"BUCKET#{bucket:09d}"}, "product_count": {"N": str(count)}}
        table.items[table.key_of(item, "bench")] = item
    snapshots.write(state, data / compaction.SNAPSHOT_FILE)
    compaction.remove_covered_segments(data, state.journal)


def store_with_products(folder: Path, name: str, products: int) -> tuple[Path, list[int]]:
    data = folder / name
    server = start_server(data)
    assert server.stop() == 0
    grow_catalogue(data, products)
    first = 201
    return data, list(range(first, first + products))


def order_latencies(server: LocalServer, products: list[int], clients: int, orders: int) -> list[float]:
    stream = OrderStream(server, server.sign_in(DEMO.username, DEMO.password), products, clients, 1)
    stream.run_until(orders, lambda: None)
    return [1000 * latency for _, latency in stream.completed]


def summary(latencies_ms: list[float]) -> str:
    return (
        f"p50 {statistics.median(latencies_ms):.0f} ms, p99 {percentile(latencies_ms, 0.99):.0f} ms, "
        f"max {max(latencies_ms):.0f} ms ({len(latencies_ms)} orders)"
    )


def restart_times(folder: Path, items: int, clients: int) -> None:
    print("\nrestart (launch to answering), demo data:")
    demo = folder / "demo"
    server, seconds = timed_start(demo)
    print(f"- first start (creates the demo data): {seconds:.2f} s")
    assert server.stop(signal.SIGINT) == 0
    server, seconds = timed_start(demo)
    print(f"- after Ctrl-C: {seconds:.2f} s ({restore_line(server)})")
    server.process.kill()
    server.process.wait()
    server, seconds = timed_start(demo)
    print(f"- after kill -9: {seconds:.2f} s ({restore_line(server)})")
    assert server.stop() == 0

    print(f"\nwith {items:,} products more (a snapshot of that size, then orders in the journal):")
    large, products = store_with_products(folder, "large", items)
    server, seconds = timed_start(large)
    print(f"- start from the snapshot: {seconds:.2f} s ({restore_line(server)})")
    print(f"- orders, {clients} clients: {summary(order_latencies(server, products[-200:], clients, 1000))}")
    server.process.kill()
    server.process.wait()
    server, seconds = timed_start(large)
    print(f"- after kill -9 (snapshot + journal of those orders): {seconds:.2f} s ({restore_line(server)})")
    assert server.stop() == 0
    files = sorted(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in large.iterdir() if not p.name.startswith("."))
    print(f"- data folder: {', '.join(files)}")


def latency_across_compaction(folder: Path, products: int, clients: int) -> None:
    """Orders until a compaction has run in the background; their latency during it and overall."""
    data, ids = store_with_products(folder, "compacting", products)
    server = start_server(data)
    stream = OrderStream(server, server.sign_in(DEMO.username, DEMO.password), ids[-500:], clients, 2)
    window: list[float] = []  # when a new segment appeared, when the segments before it were gone

    def watch_compaction() -> None:
        before = {path.name for path in data.glob("dynamodb-journal.*")}
        while len(window) < 2:
            names = {path.name for path in data.glob("dynamodb-journal.*")}
            if not window and names - before:
                window.append(time.perf_counter())
            if window and not names & before:
                window.append(time.perf_counter())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_compaction, daemon=True)
    watcher.start()
    started = time.perf_counter()
    stream.run_until(10**9, lambda: watcher.join(timeout=1800), wait=False)
    print(
        f"\norders with {products:,} products more, until the journal was compacted once ({time.perf_counter() - started:.0f} s):"
    )
    print(f"- all orders: {summary([1000 * latency for _, latency in stream.completed])}")
    if len(window) == 2:
        during = [1000 * latency for done, latency in stream.completed if window[0] <= done <= window[1] + latency]
        print(f"- during the compaction ({window[1] - window[0]:.1f} s, rotation to old segments deleted): {summary(during)}")
    assert server.stop() == 0


def persistence_costs(folder: Path, products: int) -> None:
    """What persistence adds to one order, in-process: the time under the store's lock to record
    its changes, and the wait for its record to be synced (one writer, nothing else queued)."""
    from moto import mock_aws

    from shoplocal.store import journal
    from shoplocal.store.changes import changes
    from shoplocal.store.moto_atomic import store_lock
    from shoplocal.template import table_definition

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=TABLE_NAME, **table_definition())
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends["123456789012"]["us-east-1"]
        table = backend.get_table(TABLE_NAME)
        for n in range(products):
            item = {"PK": {"S": f"PRODUCT#{n}"}, "SK": {"S": "PRODUCT"}, "id": {"N": str(n)}, "name": {"S": f"Product {n}"}}
            table.put_item({**item, "quantity_in_stock": {"N": "1000000"}, "price": {"N": "9.99"}})
        order = {
            "TransactItems": [
                {"Update": {"TableName": TABLE_NAME, "Key": {"PK": {"S": f"PRODUCT#{n}"}, "SK": {"S": "PRODUCT"}}}}
                for n in (1, 2, 3)
            ]
            + [{"Put": {"TableName": TABLE_NAME, "Item": {"PK": {"S": "ORDERS#1"}, "SK": {"S": "ORDER#1"}, "parts": {"L": []}}}}]
        }
        recorded = []
        for _ in range(2000):
            started = time.perf_counter()
            with store_lock():
                record = journal.encode(changes("TransactWriteItems", order, backend))
            recorded.append(time.perf_counter() - started)
    waits = []
    writer = journal.JournalWriter(folder, 0, lambda size: False, lambda number: None)
    for _ in range(2000):
        started = time.perf_counter()
        writer.wait(writer.append(record))
        waits.append(time.perf_counter() - started)
    writer.close()
    print(f"\npersistence per order (3 products, {products:,} items in the table, in-process):")
    print(
        f"- recording its changes under the store's lock: p50 {1e6 * statistics.median(recorded):.0f} us, "
        f"p99 {1e6 * percentile(recorded, 0.99):.0f} us"
    )
    print(
        f"- appending and waiting for the sync ({len(record)} bytes): p50 {1e3 * statistics.median(waits):.2f} ms, "
        f"p99 {1e3 * percentile(waits, 0.99):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--compaction-products", type=int, default=20_000)
    parser.add_argument("--skip-kills", action="store_true", help="only restart times and latency")
    parser.add_argument("--seed", type=int, default=random.randrange(2**32))
    args = parser.parse_args()
    print(f"seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="store-durability-") as folder:
        if not args.skip_kills:
            kill_runs(Path(folder), args.kills, args.clients, random.Random(args.seed))
        persistence_costs(Path(folder), args.compaction_products)
        restart_times(Path(folder), args.items, args.clients)
        latency_across_compaction(Path(folder), args.compaction_products, args.clients)


if __name__ == "__main__":
    main()
