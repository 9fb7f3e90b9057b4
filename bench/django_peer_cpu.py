"""The Django peer's in-process CPU per request for the requests of `handler_cpu.py`.

Run by `handler_cpu.py --peer DIR --peer-python PYTHON` with the peer's own Python (Django is
not a dependency of this project). Like the peer's `bench_inprocess.py`: Django's test client,
no HTTP, a throw-away SQLite file, 200 seeded products. A worker: prints "ready", then answers
each "<request index> <calls>" line with the median CPU ms of that many requests.
"""

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # sign-in without the KDF


def cpu_per_request(call: Callable[[], None], calls: int) -> float:
    samples = []
    for _ in range(calls):
        start = time.thread_time_ns()
        call()
        samples.append((time.thread_time_ns() - start) / 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer", required=True)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--my-orders", type=int, default=10)
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory(prefix="peer-cpu-")
    os.environ["SHOP_DB"] = os.path.join(scratch.name, "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_project.settings")
    sys.path.insert(0, os.path.abspath(args.peer))

    # The peer's packages, from its own virtualenv (imported by name: not this project's).
    importlib.import_module("django").setup()
    get_user_model = importlib.import_module("django.contrib.auth").get_user_model
    call_command = importlib.import_module("django.core.management").call_command
    django_test = importlib.import_module("django.test")
    Client, override_settings = django_test.Client, django_test.override_settings
    Product = importlib.import_module("shop.models").Product

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as devnull:
        call_command("seed", 200, "--user", "regular:x", stdout=devnull)
    Product.objects.update(quantity=10**6)
    client = Client()

    def sign_in(username: str, password: str) -> dict[str, str]:
        response = client.post("/api/auth", {"username": username, "password": password}, content_type="application/json")
        assert response.status_code == 200, response.content
        return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access']}"}

    customer, regular = sign_in("test", "test"), sign_in("regular", "x")
    for n in range(args.my_orders):
        parts = [{"product": 3 * n + k + 1, "quantity_in_order": 1} for k in range(3)]
        assert client.post("/api/order", {"parts": parts}, content_type="application/json", **regular).status_code == 201

    def get(path: str, query: dict[str, Any], headers: dict[str, str]) -> Callable[[], None]:
        def call() -> None:
            assert client.get(path, query, **headers).status_code == 200

        return call

    def order(size: int) -> Callable[[], None]:
        body = {"parts": [{"product": n + 1, "quantity_in_order": 1} for n in range(size)]}

        def call() -> None:
            assert client.post("/api/order", body, content_type="application/json", **customer).status_code == 201

        return call

    def fast_sign_in() -> None:
        sign_in("test", "fast")

    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        for username, password in (("test", "fast"), ("regular", "x")):
            user = get_user_model().objects.get(username=username)
            user.set_password(password)
            user.save()
        requests = [
            get("/api/products", {"limit": 50}, {}),
            order(1),
            order(10),
            get("/api/my-orders", {}, regular),
            fast_sign_in,
            get("/api/products", {"limit": 50, "offset": 100}, {}),
        ]
        for call in requests:
            for _ in range(args.warmup):
                call()
        print("ready", flush=True)
        for line in sys.stdin:
            index, calls = map(int, line.split())
            customer.update(sign_in("test", "fast"))  # fresh access tokens (they last 5 minutes)
            regular.update(sign_in("regular", "x"))
            print(json.dumps(cpu_per_request(requests[index], calls)), flush=True)
    scratch.cleanup()


if __name__ == "__main__":
    main()
