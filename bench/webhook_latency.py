"""Order to webhook under `make run`: how long after `POST /api/order` is sent the receiver has
the signed `order.placed` delivery (the stream poller, the events function, the bus, the queue,
the sender's fan-out and attempt), p50 and p99 over sequential orders.

    python bench/webhook_latency.py [--orders 200] [--api-port 3800] [--db-port 8800] [--receiver-port 3801]

Starts its own local server (fresh demo data in a temporary folder) and a receiver on 127.0.0.1.
Figures go to docs/events.md by hand; they are this machine's (say how busy it was).
"""

import argparse
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from local_server import start_server  # noqa: E402 - after the path is set


class Receiver:
    """Records when each order's delivery arrived, by order id."""

    def __init__(self, port: int) -> None:
        self.arrived: dict[int, float] = {}
        self.condition = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.perf_counter()
                self.send_response(204)
                self.end_headers()
                with receiver.condition:
                    receiver.arrived.setdefault(int(json.loads(body)["data"]["id"]), now)
                    receiver.condition.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, order_id: int, timeout: float = 60.0) -> float:
        with self.condition:
            if not self.condition.wait_for(lambda: order_id in self.arrived, timeout):
                raise TimeoutError(f"order {order_id} was not delivered within {timeout} s")
            return self.arrived[order_id]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--api-port", type=int, default=3800)
    parser.add_argument("--db-port", type=int, default=8800)
    parser.add_argument("--receiver-port", type=int, default=3801)
    args = parser.parse_args()
    receiver = Receiver(args.receiver_port)
    with tempfile.TemporaryDirectory() as folder:
        server = start_server(Path(folder) / "data", api_port=args.api_port, db_port=args.db_port)
        try:
            staff = server.sign_in("admin", "admin-password")
            customer = server.sign_in("demo", "demo-password")
            hook = {"url": f"http://127.0.0.1:{args.receiver_port}/hooks", "events": ["order.placed"]}
            assert server.request("POST", "/api/webhooks", hook, staff).status == 201
            products = [p for p in server.request("GET", "/api/products?limit=100&in_stock=true").json()["results"]]
            latencies, answered = [], []
            for number in range(args.orders + 5):  # the first 5 warm the functions up (cold starts)
                product = products[number % len(products)]
                body = {"parts": [{"product": product["id"], "quantity_in_order": 1}]}
                sent = time.perf_counter()
                reply = server.request("POST", "/api/order", body, customer)
                replied = time.perf_counter()
                if reply.status != 201:
                    continue
                arrived = receiver.wait(int(reply.json()["id"]))
                if number >= 5:
                    latencies.append((arrived - sent) * 1000)
                    answered.append((replied - sent) * 1000)
        finally:
            server.stop()
    cut = statistics.quantiles(latencies, n=100)
    order_cut = statistics.quantiles(answered, n=100)
    print(f"{len(latencies)} orders, one at a time")
    print(f"order answered:   p50 {order_cut[49]:.0f} ms  p99 {order_cut[98]:.0f} ms")
    print(f"webhook received: p50 {cut[49]:.0f} ms  p99 {cut[98]:.0f} ms  (max {max(latencies):.0f} ms)")


if __name__ == "__main__":
    main()
