"""Warm CPU per request of each handler, in-process, with DynamoDB answered from recorded
responses, beside the Django peer's in-process cost of the same requests, in the same run.

First every request is made once against an in-process moto table, recording DynamoDB's raw
HTTP responses. Then moto is out of the way and each call is answered with a recorded response
of the same operation, at the point where the request would go on the wire (the lean client's
transport; botocore's `before-send` hook, the one moto uses), so what is timed is the handler
and the client (serialisation, signing, parsing, retry decisions), never moto. CPU time of this
thread, so a busy machine stretches the wall clock but not the figures. Two variants of this
project run side by side: every call through boto3's client as it comes, and the client as
shipped (the lean JSON-protocol client of `shop_common.aws`).

The catalogue is realistic data: ids 1-100 the demo catalogue `make run` shows (shopctl's), ids
101-200 the scale benchmark's sample products, whose names come from a small vocabulary (one in
ten "Blue ..."): text starting with B once made the client search every page for binary values.

Sign-in is measured without its key derivation (a 1-iteration PBKDF2 hash here, Django's MD5
hasher there): the KDF costs the same in both and would hide everything else.

    python bench/handler_cpu.py                                   # this project only
    python bench/handler_cpu.py --peer DIR --peer-python PYTHON   # beside the Django peer
    python bench/handler_cpu.py --profile products                # where one request's CPU goes
"""

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "common"))  # shop_common, as in Lambda
os.environ.update(
    {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "TABLE_NAME": "bench"}
)
# Tokens that outlive the run (the access token's default 5 minutes would not).
os.environ.update({"ACCESS_TOKEN_LIFETIME_SECONDS": "86400"})
os.environ.update({"JWT_SECRET_ID": "bench-jwt", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "ShopApi"})
os.environ.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from shop_common.aws import use_transports
from shop_common.aws.transport import HttpResponse
from shoplocal.gateway.events import http_api_event
from shoplocal.gateway.invoke import LambdaContext, load_handler
from shoplocal.store.in_process import InProcessMoto
from shoplocal.template import functions, put_code_on_path, table_definition

put_code_on_path()

PEER_DRIVER = Path(__file__).with_name("django_peer_cpu.py")
# The requests, as the peer's driver makes them too (same names, same data).
SCENARIOS = (
    "products page (50)",
    "order of 1 product",
    "order of 10 products",
    "my-orders (10 orders)",
    "sign-in (no KDF)",
    "products page 3 (50, 'Blue ...' names)",
)
MY_ORDERS = 10  # orders of the my-orders user, 3 products each


@dataclass(frozen=True)
class Recorded:
    target: str  # X-Amz-Target of the request, checked on replay
    status: int
    headers: dict[str, str]
    body: bytes
    request: bytes = b""  # the request's body (the lean client's recordings): its parameters


class _Body:
    """The raw stream botocore reads a response's content from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Request:
    name: str
    call: Callable[[], dict[str, Any]]
    expected_status: int
    event: dict[str, Any]


def _requests(access_token: str, my_orders_token: str, sign_in_body: str) -> list[Request]:
    handlers = {name: load_handler(spec) for name, spec in functions().items()}

    def request(
        name: str, function: str, method: str, path: str, status: int, *, query: str = "", body: Any = None, token: str = ""
    ) -> Request:
        headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
        text = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
        event = http_api_event(method, path, headers=headers, query_string=query, body=text)
        handler = handlers[function]
        return Request(name, lambda: handler(event, LambdaContext(function)), status, event)

    def order(size: int) -> dict[str, Any]:
        return {"parts": [{"product": n + 1, "quantity_in_order": 1} for n in range(size)]}

    return [
        request(SCENARIOS[0], "ProductsFunction", "GET", "/api/products", 200, query="limit=50"),
        request(SCENARIOS[1], "OrdersFunction", "POST", "/api/order", 201, body=order(1), token=access_token),
        request(SCENARIOS[2], "OrdersFunction", "POST", "/api/order", 201, body=order(10), token=access_token),
        request(SCENARIOS[3], "OrdersFunction", "GET", "/api/my-orders", 200, token=my_orders_token),
        request(SCENARIOS[4], "AuthFunction", "POST", "/api/auth", 200, body=sign_in_body),
        request(SCENARIOS[5], "ProductsFunction", "GET", "/api/products", 200, query="limit=50&offset=100"),
    ]


def bench_catalogue() -> list[Any]:
    """The demo catalogue's first 100 products, then 100 of the scale benchmark's (names such as
    "Blue mug 0"), stocked for the whole run."""
    from shop_common.models import NewProduct
    from shopctl.demo import demo_products
    from shoplocal.catalogue_fill import sample_products

    demo = [
        NewProduct(name=product.name, description=product.description, price=product.price, quantity=10**6, sku=product.sku)
        for product in demo_products(100)
    ]
    return demo + [product.model_copy(update={"quantity": 10**6}) for product in sample_products(100)]


class Recording:
    """The lean clients' transport while recording: moto in-process, DynamoDB's answers kept
    in `Recording.kept` while it is a list."""

    kept: list[Recorded] | None = None

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.moto = InProcessMoto(connect_timeout, read_timeout)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        response = self.moto.send(url, headers, body)
        target = headers["X-Amz-Target"]
        if Recording.kept is not None and target.startswith("DynamoDB_"):
            Recording.kept.append(Recorded(target.rpartition(".")[2], response.status, response.headers, response.body, body))
        return response


def record_requests() -> tuple[list[Request], dict[str, list[Recorded]]]:
    """Set up a table on moto, make every request once, and keep DynamoDB's raw responses."""
    use_transports(Recording)
    with mock_aws():
        from shop_common import passwords
        from shop_common.new_accounts import create_user
        from shop_common.passwords import hash_password

        # 1 iteration is today's work factor here, so sign-in verifies with one and does not
        # upgrade the hash (a full PBKDF2 and an UpdateItem) on every request.
        passwords.ITERATIONS = 1
        from shop_common.catalog import add_products
        from shop_common.dynamo import client
        from shop_common.tokens import issue_token

        client().create_table(TableName="bench", **table_definition())
        boto3.client("secretsmanager").create_secret(Name="bench-jwt", SecretString=secrets.token_urlsafe(48))
        add_products(bench_catalogue())
        customer = create_user("customer", password_hash=hash_password("x", iterations=1))
        regular = create_user("regular", password_hash=hash_password("x", iterations=1))
        requests = _requests(
            issue_token(customer, "access"), issue_token(regular, "access"), json.dumps({"username": "customer", "password": "x"})
        )
        place_order = load_handler(functions()["OrdersFunction"])
        for n in range(MY_ORDERS):
            parts = [{"product": 3 * n + k + 1, "quantity_in_order": 1} for k in range(3)]
            headers = {"authorization": f"Bearer {issue_token(regular, 'access')}"}
            event = http_api_event("POST", "/api/order", headers=headers, body=json.dumps({"parts": parts}))
            assert place_order(event, LambdaContext("OrdersFunction"))["statusCode"] == 201

        recorded: dict[str, list[Recorded]] = {}

        def keep(http_response: Any, model: Any, **_: Any) -> None:  # boto3's client
            assert Recording.kept is not None
            Recording.kept.append(
                Recorded(model.name, http_response.status_code, dict(http_response.headers), http_response.content)
            )

        dynamo: Any = client()
        if dynamo.lean is None:
            dynamo.boto3_client.meta.events.register("after-call.dynamodb.*", keep)
        for request in requests:
            # Each request recorded with the per-container caches empty, so the reads they save
            # (and make again when they expire, during the run) are in its recording too.
            forget_cached_reads()
            Recording.kept = recorded[request.name] = []
            status = request.call()["statusCode"]
            assert status == request.expected_status, (request.name, status)
        Recording.kept = None
        if dynamo.lean is None:
            dynamo.boto3_client.meta.events.unregister("after-call.dynamodb.*", keep)
    return requests, recorded


def forget_cached_reads() -> None:
    from products import catalog_reads
    from shop_common import offer_store

    catalog_reads.forget_cached_stats()
    offer_store.forget_active_offers()


def recorded_events() -> tuple[dict[str, dict[str, Any]], dict[str, list[Recorded]]]:
    """Each request's API Gateway event and its recorded DynamoDB responses."""
    requests, recorded = record_requests()
    return {request.name: request.event for request in requests}, recorded


def replay(recorded: list[Recorded]) -> Callable[[str], Recorded]:
    """Answer each call with a recorded response of the same operation, in recorded order per
    operation (a request may skip a call it made when recorded, e.g. one served from a cache)."""
    by_target: dict[str, Iterator[Recorded]] = {}
    for target in {response.target for response in recorded}:
        by_target[target] = cycle([response for response in recorded if response.target == target])

    def answer(target: str) -> Recorded:
        assert target in by_target, (target, sorted(by_target))
        return next(by_target[target])

    return answer


class Replaying:
    """The lean client's transport while timing: the recorded answer of the current request."""

    def __init__(self, answers: dict[str, Callable[[str], Recorded]], current: list[str]) -> None:
        self._answers = answers
        self._current = current

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        response = self._answers[self._current[0]](headers["X-Amz-Target"].rpartition(".")[2])
        return HttpResponse(response.status, {name.lower(): value for name, value in response.headers.items()}, response.body)


def cpu_per_request(call: Callable[[], Any], calls: int) -> float:
    samples = []
    for _ in range(calls):
        start = time.thread_time_ns()
        call()
        samples.append((time.thread_time_ns() - start) / 1e6)
    return statistics.median(samples)


def use_boto3_client_only() -> None:
    """Every call through boto3's client as it comes: a shared config file is something only
    botocore reads, so the lean client stands aside (shop_common.aws.endpoints)."""
    config = Path(tempfile.mkdtemp()) / "config"
    config.write_text("[default]\n")
    os.environ["AWS_CONFIG_FILE"] = str(config)


def replaying_requests() -> list[Request]:
    """The requests, each answered from its recorded DynamoDB responses."""
    from shop_common.dynamo import client

    requests, recorded = record_requests()
    answers = {request.name: replay(recorded[request.name]) for request in requests}
    current: list[str] = [""]
    dynamo: Any = client()
    if dynamo.lean is not None:
        dynamo.lean.transport = Replaying(answers, current)
    else:

        def answer(request: Any, **_: Any) -> AWSResponse:
            target = request.headers.get("X-Amz-Target", b"")
            target = (target.decode() if isinstance(target, bytes) else target).rpartition(".")[2]
            response = answers[current[0]](target)
            return AWSResponse(request.url, response.status, response.headers, _Body(response.body))  # type: ignore[arg-type]

        dynamo.boto3_client.meta.events.register_first("before-send.dynamodb.*", answer)

    def answered(request: Request) -> Callable[[], dict[str, Any]]:
        def call() -> dict[str, Any]:
            current[0] = request.name
            return request.call()

        return call

    replaying = [Request(request.name, answered(request), request.expected_status, request.event) for request in requests]
    for request in replaying:
        assert request.call()["statusCode"] == request.expected_status, request.name
    return replaying


def serve(variant: str, warmup: int) -> None:
    """A worker: answers "<request index> <calls>" lines with the median CPU ms of that many calls."""
    answers, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 (handlers print metrics)
    if variant == "botocore":
        use_boto3_client_only()
    from shop_common.dynamo import client

    requests = replaying_requests()
    assert (client().lean is None) == (variant == "botocore")  # type: ignore[attr-defined]
    for request in requests:
        for _ in range(warmup):
            request.call()
    print("ready", file=answers, flush=True)
    for line in sys.stdin:
        index, calls = map(int, line.split())
        request = requests[index]
        assert request.call()["statusCode"] == request.expected_status, request.name  # still the same request
        print(json.dumps(cpu_per_request(request.call, calls)), file=answers, flush=True)


def profile(name: str, calls: int) -> None:
    report, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 (handlers print metrics)
    for request in replaying_requests():
        if name in request.name:
            with contextlib.redirect_stdout(report):
                _profile(request, calls)


def _profile(request: Request, calls: int) -> None:
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for _ in range(calls):
        request.call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    by_package: dict[str, float] = {}
    for (filename, _line, _function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        package = "other"
        for name in ("botocore", "boto3", "aws_lambda_powertools", "pydantic", "jwt", "json", "shop_common", "functions"):
            if f"/{name}/" in filename:
                package = name
                break
        by_package[package] = by_package.get(package, 0.0) + own
    print(f"\n{request.name}: {total / calls * 1000:.3f} ms CPU per request, own time by package:")
    for package, own in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"  {package:24} {own / total:6.1%}")
    stats.sort_stats("tottime").print_stats(40)


class Worker:
    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603
        assert self.process.stdout
        assert self.process.stdin
        self.stdin, self.stdout = self.process.stdin, self.process.stdout

    def wait_until_ready(self) -> None:
        assert self.stdout.readline().strip() == "ready", "the worker failed to start"

    def measure(self, index: int, calls: int) -> float:
        self.stdin.write(f"{index} {calls}\n")
        self.stdin.flush()
        return float(json.loads(self.stdout.readline()))

    def close(self) -> None:
        self.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of measurements, interleaved (default 5)")
    parser.add_argument("--calls", type=int, default=100, help="timed requests per endpoint and round (default 100)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests of each first (default 50)")
    parser.add_argument("--peer", help="the Django peer's folder (its README: set up in a virtualenv of its own)")
    parser.add_argument("--peer-python", help="the Python of the peer's virtualenv")
    parser.add_argument("--profile", metavar="NAME", help="profile the request whose name contains NAME instead")
    parser.add_argument("--worker", choices=["lean", "botocore"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        serve(args.worker, args.warmup)
        return
    if args.profile:
        profile(args.profile, args.calls)
        return
    me = [sys.executable, __file__, "--warmup", str(args.warmup), "--worker"]
    workers = {
        "boto3's client as it comes": Worker([*me, "botocore"]),
        "this project": Worker([*me, "lean"]),
    }
    if args.peer and args.peer_python:
        peer = [
            args.peer_python,
            str(PEER_DRIVER),
            "--peer",
            args.peer,
            "--warmup",
            str(args.warmup),
            "--my-orders",
            str(MY_ORDERS),
        ]
        workers["Django peer"] = Worker(peer)
    for worker in workers.values():
        worker.wait_until_ready()
    # Rounds interleave the workers, so a busy machine slows them alike; each figure is the
    # median of the rounds' medians.
    rounds: dict[str, dict[str, list[float]]] = {name: {scenario: [] for scenario in SCENARIOS} for name in workers}
    for round_number in range(args.rounds):
        print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr)
        for index, scenario in enumerate(SCENARIOS):
            for name, worker in workers.items():
                rounds[name][scenario].append(worker.measure(index, args.calls))
    for worker in workers.values():
        worker.close()
    figures = {name: {scenario: statistics.median(values) for scenario, values in per.items()} for name, per in rounds.items()}

    print(f"\nWarm CPU per request in ms, median of {args.rounds} interleaved rounds of {args.calls} requests:\n")
    names = list(workers)
    peer_name = "Django peer" if "Django peer" in workers else None
    print("| request | " + " | ".join(names) + (" | this project / Django |" if peer_name else " |"))
    print("|---|" + "---:|" * (len(names) + (1 if peer_name else 0)))
    for scenario in SCENARIOS:
        cells = [f"{figures[name][scenario]:.3f}" for name in names]
        if peer_name:
            cells.append(f"{figures['this project'][scenario] / figures[peer_name][scenario]:.2f}x")
        print(f"| {scenario} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
