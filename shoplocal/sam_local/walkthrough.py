"""What `make sam-local-test` does through SAM, each step checked, and the latency of the same
requests through SAM and through `make run`, measured in the same run.

The checks are on status codes, ids and headers: the shapes of products and orders are the
drop-in contract's business (the unit tests hold them), not this test's.
"""

import json
import secrets
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from shoplocal.gateway.s3_events import object_created_event
from shoplocal.store import local_store

WARM_REPEATS = 5
PHOTO_CHECK_SECONDS = 60
DEMO_CUSTOMER = {"username": "demo", "password": "demo-password"}
DEMO_STAFF = {"username": "admin", "password": "admin-password"}


class WalkthroughError(Exception):
    """A step answered something else than it must."""


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG (what the photo checker reads): signature and IHDR."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00"


@dataclass
class Client:
    """Requests to one API (SAM's or make run's) with their durations."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[requests.Response, float]:
        started = time.perf_counter()
        response = self.session.request(method, self.base_url + path, json=body, headers=headers, timeout=120)
        return response, time.perf_counter() - started


def expect(response: requests.Response, status: int, step: str) -> Any:
    """The JSON body of a response of `status` (SAM answers a failed invocation with a 502)."""
    if response.status_code != status:
        raise WalkthroughError(f"{step}: expected {status}, got {response.status_code}: {response.text[:500]}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as error:
        raise WalkthroughError(f"{step}: the body is not JSON: {response.text[:500]}") from error


def bearer(token: str) -> dict[str, str]:
    # Spelled as clients spell it: SAM passes the name as sent (API Gateway lower-cases it).
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Latency:
    first: float
    warm: list[float]

    @property
    def warm_median(self) -> float:
        return statistics.median(self.warm)


@dataclass
class Comparison:
    """Per request: (through SAM, through make run)."""

    rows: dict[str, tuple[Latency, Latency]] = field(default_factory=dict)

    def table(self) -> str:
        lines = [
            "| request | SAM first | SAM warm (median) | make run first | make run warm (median) |",
            "|---|---|---|---|---|",
        ]
        for name, (sam, local) in self.rows.items():
            cells = [f"{sam.first * 1000:.0f} ms", f"{sam.warm_median * 1000:.0f} ms"]
            cells += [f"{local.first * 1000:.0f} ms", f"{local.warm_median * 1000:.0f} ms"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _requests_to_compare(client: Client) -> list[tuple[str, Callable[[], float]]]:
    """One request to each of five functions, in this order (the first reaches a cold function)."""
    token: dict[str, str] = {}

    def timed(method: str, path: str, body: Any = None, status: int = 200, signed: bool = False) -> Callable[[], float]:
        def run() -> float:
            response, seconds = client.call(method, path, body, bearer(token["access"]) if signed else None)
            answer = expect(response, status, f"{method} {path}")
            if path == "/api/auth":
                if not isinstance(answer, dict) or "access" not in answer:
                    raise WalkthroughError(f"sign-in: no access token in {response.text[:300]}")
                token["access"] = answer["access"]
            return seconds

        return run

    return [
        ("GET /api/products?limit=20", timed("GET", "/api/products?limit=20")),
        ("POST /api/auth (sign-in)", timed("POST", "/api/auth", DEMO_CUSTOMER)),
        ("GET /api/my-orders", timed("GET", "/api/my-orders", signed=True)),
        ("GET /api/offers", timed("GET", "/api/offers")),
        ("GET /api/openapi.json", timed("GET", "/api/openapi.json")),
    ]


def measure(client: Client) -> dict[str, Latency]:
    results = {}
    for name, request in _requests_to_compare(client):
        first = request()
        results[name] = Latency(first, [request() for _ in range(WARM_REPEATS)])
    return results


def compare(sam: Client, local: Client) -> Comparison:
    """The same requests through SAM, then through make run; each target's first request to a
    function is its cold start there."""
    through_sam = measure(sam)
    through_local = measure(local)
    return Comparison({name: (through_sam[name], through_local[name]) for name in through_sam})


@dataclass
class Walkthrough:
    """The steps through SAM; `invoke_photo_check(event_file)` runs the checker with SAM."""

    client: Client
    invoke_photo_check: Callable[[Path], tuple[int, str]]
    log: Callable[[str], None] = print
    steps: list[tuple[str, int, float]] = field(default_factory=list)

    def _step(
        self, name: str, method: str, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        response, seconds = self.client.call(method, path, body, headers)
        self.steps.append((name, response.status_code, seconds))
        self.log(f"    {name}: {method} {path} -> {response.status_code} ({seconds * 1000:.0f} ms)")
        answer = expect(response, status, name)
        return answer, response

    def run(self) -> None:
        username = f"samlocal{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        self._step("sign-up", "POST", "/api/register", 201, {"username": username, "password": password})
        tokens, _ = self._step("sign-in", "POST", "/api/auth", 200, {"username": username, "password": password})
        customer = bearer(tokens["access"])
        listing, _ = self._step("products", "GET", "/api/products?limit=5", 200)
        items = listing["results"] if isinstance(listing, dict) else listing
        if not items or not all(isinstance(item.get("id"), int) for item in items):
            raise WalkthroughError(f"products: expected products with ids, got {json.dumps(listing)[:300]}")
        staff_tokens, _ = self._step("staff sign-in", "POST", "/api/auth", 200, DEMO_STAFF)
        staff = bearer(staff_tokens["access"])
        product = {"name": f"SAM local mug {username}", "price": "4.50", "quantity": 5}
        created, _ = self._step("staff product create", "POST", "/api/products", 201, product, staff)
        product_id = created["id"]
        order_body = {"parts": [{"product": product_id, "quantity_in_order": 2}]}
        keyed = {**customer, "Idempotency-Key": f"sam-local-{username}"}
        order, first = self._step("order", "POST", "/api/order", 201, order_body, keyed)
        if "Idempotent-Replayed" in first.headers:
            raise WalkthroughError("order: a first request answered as a replay")
        again, replay = self._step("Idempotency-Key replay", "POST", "/api/order", 201, order_body, keyed)
        if replay.headers.get("Idempotent-Replayed") != "true" or again.get("id") != order["id"]:
            raise WalkthroughError(f"replay: expected the first order again, marked Idempotent-Replayed: {dict(replay.headers)}")
        mine, _ = self._step("my-orders", "GET", "/api/my-orders", 200, headers=customer)
        if [entry.get("id") for entry in mine] != [order["id"]]:
            raise WalkthroughError(f"my-orders: expected exactly order {order['id']}, got {json.dumps(mine)[:300]}")
        self.photo(product_id, staff)

    def photo(self, product_id: int, staff: dict[str, str]) -> None:
        """An upload to the form the API hands out, then the checker run by SAM with S3's event."""
        content = png_header(320, 240)
        form, _ = self._step(
            "photo upload form",
            "POST",
            f"/api/products/{product_id}/images",
            201,
            {"content_type": "image/png", "content_length": len(content), "alt": "A mug"},
            staff,
        )
        upload = form["upload"]
        posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("mug.png", content)}, timeout=60)
        self.log(f"    photo upload: POST {upload['url']} -> {posted.status_code}")
        if posted.status_code not in (200, 201, 204):
            raise WalkthroughError(f"photo upload: {posted.status_code} {posted.text[:300]}")
        key = upload["fields"]["key"]
        event = object_created_event(local_store.IMAGES_BUCKET, key, len(content), local_store.REGION)
        with tempfile.TemporaryDirectory() as folder:
            event_file = Path(folder) / "s3-event.json"
            event_file.write_text(json.dumps(event), encoding="utf-8")
            started = time.perf_counter()
            status, output = self.invoke_photo_check(event_file)
        self.log(f"    photo check: sam local invoke ImageCheckFunction -> exit {status} ({time.perf_counter() - started:.1f} s)")
        if status != 0 or "errorMessage" in output:
            raise WalkthroughError(f"photo check: sam local invoke failed (exit {status}):\n{output[-2000:]}")
        deadline = time.monotonic() + PHOTO_CHECK_SECONDS
        while True:
            detail, _ = self._step("product with its photo", "GET", f"/api/products/{product_id}", 200)
            if detail.get("images"):
                return
            if time.monotonic() > deadline:
                raise WalkthroughError(f"photo check: product {product_id} shows no photo after {PHOTO_CHECK_SECONDS} s")
            time.sleep(1)
