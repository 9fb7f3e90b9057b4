"""End to end: the local server `make run` starts, driven over real HTTP on free ports.

One server (with fresh demo data) serves most tests; the restart tests start their own.
"""

import json
import math
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_server import LocalServer, shopctl, start_server
from shopctl.demo import DEMO_USERS
from shoplocal.template import PROJECT_ROOT

DEMO = next(user for user in DEMO_USERS if not user.is_staff)
STAFF = next(user for user in DEMO_USERS if user.is_staff)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    running = start_server(tmp_path_factory.mktemp("local") / "data")
    yield running
    assert running.stop() == 0


@pytest.fixture(scope="module")
def demo_headers(server: LocalServer) -> dict[str, str]:
    return server.sign_in(DEMO.username, DEMO.password)


def all_products(server: LocalServer) -> list[dict[str, Any]]:
    first = server.request("GET", "/api/products?limit=100").json()
    pages = math.ceil(first["count"] / 100)
    products: list[dict[str, Any]] = first["results"]
    for page in range(2, pages + 1):
        products += server.request("GET", f"/api/products?limit=100&page={page}").json()["results"]
    return products


def test_first_start_prints_the_address_and_the_demo_credentials(server: LocalServer) -> None:
    log = server.log()
    assert server.api_url in log
    assert server.db_url in log
    for user in DEMO_USERS:
        assert f"{user.username} / {user.password}" in log


def test_demo_catalogue_has_about_200_varied_products_some_sold_out(server: LocalServer) -> None:
    page = server.request("GET", "/api/products")
    assert page.status == 200
    body = page.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert 150 <= body["count"] <= 250
    assert body["next"].startswith(f"{server.api_url}/api/products?")
    products = all_products(server)
    assert len(products) == body["count"]
    assert len({p["id"] for p in products}) == len(products)
    assert any(p["quantity"] == 0 for p in products)
    assert len({p["price"] for p in products}) > 50


def test_sign_in_and_refresh(server: LocalServer) -> None:
    for user in DEMO_USERS:
        tokens = server.request("POST", "/api/auth", {"username": user.username, "password": user.password})
        assert tokens.status == 200
        refreshed = server.request("POST", "/api/refresh", {"refresh": tokens.json()["refresh"]})
        assert refreshed.status == 200
        assert set(refreshed.json()) == {"access"}


def test_bad_credentials_and_bad_bodies_are_clear_4xx(server: LocalServer) -> None:
    wrong = server.request("POST", "/api/auth", {"username": DEMO.username, "password": "not it"})
    assert wrong.status == 401
    assert "www-authenticate" in wrong.headers
    assert "detail" in wrong.json()
    assert server.request("POST", "/api/auth", b"{not json").status == 400
    missing = server.request("POST", "/api/auth", {"username": DEMO.username})
    assert missing.status == 400
    assert missing.json()["errors"][0]["field"] == "password"
    # A form, as the Django app took on its POST routes: read whole, judged as JSON would be.
    form = server.request("POST", "/api/auth", b"username=a", {"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 400
    assert form.json()["password"] == ["This field is required."]
    not_here = server.request("POST", "/api/register", b"username=a", {"Content-Type": "application/x-www-form-urlencoded"})
    assert not_here.status == 415  # JSON only on the routes the Django app did not have
    assert "detail" in not_here.json()
    assert server.request("POST", "/api/refresh", {"refresh": "garbage"}).status == 401


def in_stock(server: LocalServer, minimum: int) -> dict[str, Any]:
    return next(p for p in all_products(server) if p["quantity"] >= minimum)


def test_an_order_takes_stock_and_shows_in_my_orders(server: LocalServer, demo_headers: dict[str, str]) -> None:
    product = in_stock(server, 3)
    placed = server.request("POST", "/api/order", {"parts": [{"product": product["id"], "quantity_in_order": 2}]}, demo_headers)
    assert placed.status == 201, placed.body
    order = placed.json()
    (part,) = order["parts"]
    assert (part["product"], part["quantity_in_order"], part["product_name"]) == (product["id"], 2, product["name"])
    assert part["unit_price"] == product["price"]
    after = next(p for p in all_products(server) if p["id"] == product["id"])
    assert after["quantity"] == product["quantity"] - 2
    mine = server.request("GET", "/api/my-orders", headers=demo_headers)
    assert mine.status == 200
    assert order["id"] in [o["id"] for o in mine.json()]


def test_orders_reject_bad_tokens_and_bad_input_and_change_nothing(server: LocalServer, demo_headers: dict[str, str]) -> None:
    product = in_stock(server, 1)
    body = {"parts": [{"product": product["id"], "quantity_in_order": 1}]}
    assert server.request("POST", "/api/order", body).status == 401
    assert server.request("POST", "/api/order", body, {"Authorization": "Bearer not.a.token"}).status == 401
    assert server.request("GET", "/api/my-orders", headers={"Authorization": "Basic abc"}).status == 401
    bad_quantity = {"parts": [{"product": product["id"], "quantity_in_order": 0}]}
    assert server.request("POST", "/api/order", bad_quantity, demo_headers).status == 400
    too_many = {"parts": [{"product": product["id"], "quantity_in_order": product["quantity"] + 1}]}
    assert server.request("POST", "/api/order", too_many, demo_headers).status == 400
    assert (
        server.request("POST", "/api/order", {"parts": [{"product": 10**9, "quantity_in_order": 1}]}, demo_headers).status == 400
    )
    after = next(p for p in all_products(server) if p["id"] == product["id"])
    assert after["quantity"] == product["quantity"]


def test_unknown_routes_are_a_json_404_wrong_methods_a_405_and_the_root_points_to_the_docs(server: LocalServer) -> None:
    """The template's `$default` route, as in AWS."""
    assert server.request("GET", "/api/nothing").status == 404
    assert server.request("GET", "/api/nothing").json() == {"detail": "Not found."}
    for method, path, allow in (("GET", "/api/order", "POST"), ("DELETE", "/api/products", "GET, POST")):
        reply = server.request(method, path)
        assert (reply.status, reply.headers["allow"]) == (405, allow), (method, path)
        assert reply.json() == {"detail": f'Method "{method}" not allowed.'}
    assert server.request("GET", "/").json()["docs"] == "/api/docs"


def test_each_request_logs_one_line_with_status_duration_and_function(server: LocalServer) -> None:
    server.request("GET", "/api/products?limit=1&page=3")
    server.request("GET", "/api/log-probe")
    lines = server.log().splitlines()
    (listing,) = [line for line in lines if "/api/products?limit=1&page=3" in line]
    assert re.search(r"GET /api/products\?limit=1&page=3 200 [0-9.]+ ms ProductsFunction", listing)
    (unknown,) = [line for line in lines if "/api/log-probe" in line]
    assert "404" in unknown
    assert not [line for line in lines if "HTTP/1.1" in line]  # no access log of the store's own calls


def test_many_concurrent_orders_on_a_small_stock_sell_exactly_the_stock(
    server: LocalServer, demo_headers: dict[str, str], tmp_path: Path
) -> None:
    catalogue = tmp_path / "limited.json"
    catalogue.write_text('[{"name": "Limited edition print", "price": "40.00", "quantity": 7}]')
    loaded = shopctl("load-products", str(catalogue), db_port=server.db_port)
    assert loaded.returncode == 0, loaded.stderr
    limited = next(p for p in all_products(server) if p["name"] == "Limited edition print")
    body = {"parts": [{"product": limited["id"], "quantity_in_order": 1}]}
    statuses: list[int] = []
    start = threading.Barrier(30)

    def order() -> None:
        start.wait()
        statuses.append(server.request("POST", "/api/order", body, demo_headers).status)

    threads = [threading.Thread(target=order) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {201: 7, 400: 23}
    assert next(p for p in all_products(server) if p["id"] == limited["id"])["quantity"] == 0


def test_a_user_created_with_shopctl_can_sign_in(server: LocalServer) -> None:
    created = shopctl("create-user", "carol", "--password", "carol-password-1", db_port=server.db_port)
    assert created.returncode == 0, created.stderr
    assert server.sign_in("carol", "carol-password-1")
    again = shopctl("create-user", "carol", "--password", "carol-password-1", db_port=server.db_port)
    assert again.returncode != 0
    assert "Traceback" not in again.stderr


def test_cors_preflight_is_answered(server: LocalServer) -> None:
    preflight = server.request(
        "OPTIONS", "/api/order", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_cors_origins_come_from_the_development_stacks_samconfig(server: LocalServer) -> None:
    # samconfig.toml's [default] deploy parameters allow a front end on Vite's port too.
    preflight = server.request(
        "OPTIONS", "/api/order", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
    listing = server.request("GET", "/api/products?limit=1", headers={"Origin": "http://localhost:5173"})
    assert listing.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_parameter_overrides_set_the_cors_origins(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", "--parameter-overrides", "AllowedOrigins=http://localhost:8080")
    try:
        allowed = running.request("GET", "/api/products?limit=1", headers={"Origin": "http://localhost:8080"})
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:8080"
        dropped = running.request("GET", "/api/products?limit=1", headers={"Origin": "http://localhost:5173"})
        assert "access-control-allow-origin" not in dropped.headers
    finally:
        assert running.stop() == 0


def test_an_undeclared_parameter_override_is_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shoplocal.run", "--parameter-overrides", "AllowedOrigin=http://x", "--data-dir", str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "template.yaml declares no parameter AllowedOrigin" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_survives_a_restart_and_a_kill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(data)
    headers = first.sign_in(DEMO.username, DEMO.password)
    product = in_stock(first, 5)
    order_body = {"parts": [{"product": product["id"], "quantity_in_order": 1}]}
    first_order = first.request("POST", "/api/order", order_body, headers).json()
    assert first.stop(signal.SIGINT) == 0

    # Ctrl-C and start again: the order, the stock and the signing key (the token) are kept.
    second = start_server(data, api_port=first.api_port, db_port=first.db_port)
    assert "restored" in second.log()
    mine = second.request("GET", "/api/my-orders", headers=headers)
    assert mine.status == 200
    assert [o["id"] for o in mine.json()] == [first_order["id"]]
    second_order = second.request("POST", "/api/order", order_body, headers).json()
    stock_after_two = product["quantity"] - 2
    # kill -9 right after the write: it was on disk before its answer left.
    assert second.stop(signal.SIGKILL) == -signal.SIGKILL

    third = start_server(data)
    assert {o["id"] for o in third.request("GET", "/api/my-orders", headers=headers).json()} == {
        first_order["id"],
        second_order["id"],
    }
    assert next(p for p in all_products(third) if p["id"] == product["id"])["quantity"] == stock_after_two
    assert third.stop() == 0

    # --reset (make reset) starts again from fresh demo data.
    fresh = start_server(data, "--reset")
    fresh_headers = fresh.sign_in(DEMO.username, DEMO.password)
    assert fresh.request("GET", "/api/my-orders", headers=fresh_headers).json() == []
    assert fresh.stop() == 0


def _accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_signal_as_the_server_comes_up_or_while_it_starts_stops_it_and_saves(tmp_path: Path) -> None:
    """SIGINT or SIGTERM just as the server is up (the moment it starts waiting for one: a stop
    signal there used to be ignored for good), or while it is still starting (its DynamoDB port
    open, the API not yet): it stops and saves. tests/shoplocal/test_run_signals.py sends
    thousands of signals at that moment without a server. Bounded waits with generous limits:
    the verdict does not depend on timing."""
    data_dir = tmp_path / "data"
    rounds = [(signal.SIGINT, False), (signal.SIGTERM, True), (signal.SIGTERM, False), (signal.SIGINT, True)]
    for round_number, (how, starting) in enumerate(rounds):  # the first creates the demo data, the others restore it
        server = start_server(data_dir, wait=not starting)
        try:
            if starting:
                deadline = time.monotonic() + 60
                while not _accepts_connections(server.db_port):
                    assert server.process.poll() is None, server.log()
                    assert time.monotonic() < deadline, server.log()
                    time.sleep(0.01)
            server.process.send_signal(how)
            assert server.process.wait(timeout=60) == 0, server.log()
        finally:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait(timeout=60)
        assert "Stopped; the data is saved." in server.log(), (round_number, server.log())
        assert "Traceback" not in server.log()


def test_a_taken_port_is_a_clear_message(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"cannot serve the API on 127\.0\.0\.1:.*API_PORT"):
        start_server(tmp_path / "data", api_port=server.api_port)
    with pytest.raises(AssertionError, match=r"cannot serve DynamoDB on 127\.0\.0\.1:.*DB_PORT"):
        start_server(tmp_path / "other", db_port=server.db_port)


def test_the_api_can_serve_a_deployed_table_and_secret(server: LocalServer, tmp_path: Path) -> None:
    # The running embedded store stands in for AWS: `--table/--secret` must use the table and
    # secret named, through the usual AWS settings, and no embedded store of its own.
    from shoplocal.store import local_store

    aws = {
        "AWS_ENDPOINT_URL": server.db_url,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    deployed = start_server(
        tmp_path / "unused", "--table", local_store.TABLE_NAME, "--secret", local_store.SECRET_NAME, environment=aws
    )
    try:
        assert "in AWS" in deployed.log()
        assert not (tmp_path / "unused").exists()
        headers = deployed.sign_in(DEMO.username, DEMO.password)
        assert deployed.request("GET", "/api/my-orders", headers=headers).status == 200
        assert deployed.request("GET", "/api/products").json()["count"] == server.request("GET", "/api/products").json()["count"]
    finally:
        assert deployed.stop() == 0


def test_an_order_reaches_a_local_webhook_receiver_and_shopctl_events_tail(
    server: LocalServer, demo_headers: dict[str, str]
) -> None:
    from standardwebhooks import Webhook

    from event_pipeline import receiver

    staff = server.sign_in(STAFF.username, STAFF.password)
    with receiver(answers=[500]) as hooks:  # the first attempt fails: retried 2 s later (make run's schedule)
        endpoint = server.request("POST", "/api/webhooks", {"url": hooks.url, "events": ["order.placed"]}, staff).json()
        tail = subprocess.Popen(
            [sys.executable, "-m", "shopctl.cli", "events", "tail", "--type", "order.placed", "--json", "--count", "1",
             "--endpoint-url", server.db_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
        )  # fmt: skip
        assert tail.stderr is not None
        assert "listening to shop-local-EventBus" in tail.stderr.readline()  # subscribed: the order comes after
        product = in_stock(server, 1)
        order = server.request(
            "POST", "/api/order", {"parts": [{"product": product["id"], "quantity_in_order": 1}]}, demo_headers
        )
        first, retry = hooks.wait_for(2)
        tailed, _ = tail.communicate(timeout=60)
    assert first.headers["webhook-id"] == retry.headers["webhook-id"]
    payload = Webhook(endpoint["secret"]).verify(retry.body, retry.headers)
    assert payload["type"] == "order.placed"
    assert payload["data"] == order.json()
    assert json.loads(tailed) == {"id": retry.headers["webhook-id"], "type": "order.placed", "time": payload["timestamp"],
                                  "data": order.json()}  # fmt: skip
    deliveries = server.request("GET", f"/api/webhooks/{endpoint['id']}/deliveries", headers=staff).json()
    assert [(d["state"], d["attempts"]) for d in deliveries] == [("succeeded", 2)]
