"""`make run` under load, beside the Django app it replaces: request rates and latencies from 8
concurrent clients at the demo size, after 10,000 orders, and after 20,000 more products.

    python bench/local_server.py [--peer-url http://127.0.0.1:8001 --peer-user test:test]
                                 [--requests 400] [--rounds 3] [--clients 8] [--orders 10000]

The peer is the Django/DRF re-creation of the original app, served by gunicorn with 2 workers and
seeded with its 200 products (its README says how); its orders take stock, so seed it again
before each run. The peer keeps its demo data throughout: measured beside every row, it shows
how busy the machine was at that moment. Both servers get the same requests from the same driver (one keep-alive
connection per client thread), in alternating rounds, so a machine busy with other work slows
both alike; each figure is the median of the rounds. Orders go round-robin over the products in
stock, one unit each. Figures go to docs/performance.md by hand; they are this machine's.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.load_driver import Figures, Target, add_orders, add_products, measure  # noqa: E402 - after the path is set
from local_server import LocalServer, start_server  # noqa: E402
from shoplocal.store import local_store  # noqa: E402
from shoplocal.template import put_code_on_path  # noqa: E402

put_code_on_path()


def timed_start(data: Path, ports: tuple[int, int] | tuple[None, None] = (None, None)) -> tuple[LocalServer, float]:
    started = time.perf_counter()
    server = start_server(data, api_port=ports[0], db_port=ports[1])
    return server, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-url", help="the Django peer's base URL (measured beside `make run` when given)")
    parser.add_argument("--peer-user", default="test:test", help="the peer's USER:PASSWORD (default %(default)s)")
    parser.add_argument("--requests", type=int, default=400, help="requests per round (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure (default %(default)s)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default %(default)s)")
    parser.add_argument("--orders", type=int, default=10_000, help="orders added for the second size (default %(default)s)")
    parser.add_argument("--products", type=int, default=20_000, help="products added for the third size (default %(default)s)")
    args = parser.parse_args()
    order_requests = args.clients * 2 + args.rounds * args.requests
    rows: list[tuple[str, dict[str, Figures]]] = []

    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"
        print("first start and restarts ...", file=sys.stderr)
        server, first_start = timed_start(data)
        ports = (server.api_port, server.db_port)
        server.stop()
        restarts = []
        for _ in range(3):
            server, seconds = timed_start(data, ports)
            restarts.append(seconds)
            server.stop()
        server = start_server(data, api_port=ports[0], db_port=ports[1])
        try:
            local_store.use_local_store(server.db_url)
            ours = Target("make run", server.api_url)
            ours.sign_in("demo", "demo-password")
            targets = [ours]
            if args.peer_url:
                targets.append(Target("Django peer", args.peer_url))
            sizes: list[tuple[str, Callable[[], None] | None]] = [
                ("demo data", None),
                (f"+{args.orders:,} orders", lambda: add_orders(args.orders, "bench", "bench-password")),
                (f"+{args.orders:,} orders, +{args.products:,} products", lambda: add_products(args.products)),
            ]
            for size, grow in sizes:
                if grow is not None:
                    print(f"growing the store: {size} ...", file=sys.stderr)
                    grow()
                print(f"measuring at {size} ...", file=sys.stderr)
                for target in targets:  # the peer keeps its demo data: beside each row, it shows the machine's drift
                    target.sign_in(*(("demo", "demo-password") if target is ours else args.peer_user.split(":", 1)))
                    target.plan_orders(order_requests)
                rows.append((f"GET /api/products (page of 50), {size}", measure(targets, "products", args, 0)))
                rows.append((f"POST /api/order, {size}", measure(targets, "order", args, 0)))
        finally:
            server.stop()

    print(f"\n| start | time |\n|---|---:|\n| first start, fresh demo data | {first_start:.2f} s |")
    print(f"| restart with the demo data (median of 3) | {statistics.median(restarts):.2f} s |")
    print(f"\n| {args.clients} clients, median of {args.rounds} rounds of {args.requests} | `make run` | Django peer | ratio |")
    print("|---|---|---|---:|")
    for label, figures in rows:
        mine, theirs = figures["make run"], figures.get("Django peer")
        ratio = f"{mine.rate / theirs.rate:.2f}" if theirs else ""
        print(f"| {label} | {mine.cell()} | {theirs.cell() if theirs else ''} | {ratio} |")


if __name__ == "__main__":
    main()
