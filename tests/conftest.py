"""Fixtures: every test runs against a fresh in-process moto DynamoDB table created from the
definition in template.yaml, and a freshly generated JWT signing secret."""

import io
import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import settings
from moto import mock_aws

from botocore_check import BotocoreCheck
from event_pipeline import Pipeline
from shop_common.aws import use_transports
from shoplocal.gateway.containers import load_private_copy
from shoplocal.gateway.invoke import Handler, LocalApi
from shoplocal.store.in_process import InProcessMoto
from shoplocal.store.moto_atomic import make_dynamodb_atomic
from shoplocal.template import functions, parameter_defaults, resolved_environment, table_definition

TABLE_NAME = "shop-test"
SECRET_NAME = "shop-test-jwt"
IMAGES_BUCKET = "shop-test-images"
REGION = "eu-west-1"
EVENT_BUS = "shop-test-events"
WEBHOOK_QUEUE = "shop-test-webhooks"
WEBHOOK_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/{WEBHOOK_QUEUE}"

os.environ.update(
    {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # The developer's own AWS configuration plays no part, as in Lambda.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)
for name in (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
):
    os.environ.pop(name, None)


def checked_in_process(connect_timeout: float, read_timeout: float) -> BotocoreCheck:
    """The functions' AWS clients talk to the in-process moto, and every request and response is
    checked against botocore's validator and parser on the way."""
    return BotocoreCheck(InProcessMoto(connect_timeout, read_timeout))


use_transports(checked_in_process)


def function_environment() -> dict[str, str]:
    """Each function's environment exactly as template.yaml declares it, resolved locally."""
    refs = {
        **parameter_defaults(),
        "ShopTable": TABLE_NAME,
        "JwtSigningSecret": SECRET_NAME,
        "ImagesBucket": IMAGES_BUCKET,
        "EventBus": EVENT_BUS,
        "WebhookQueue": WEBHOOK_QUEUE_URL,
    }
    environment: dict[str, str] = {}
    for spec in functions().values():
        for name, value in resolved_environment(spec, refs).items():
            if name != "POWERTOOLS_SERVICE_NAME":
                environment[name] = value
    return environment


# Hypothesis's per-example deadline (200 ms) makes every property test depend on how busy the
# machine is (a first example that imports a handler took 450 ms on a loaded machine): off.
settings.register_profile("shop", deadline=None)
settings.load_profile("shop")

FUNCTION_ENVIRONMENT = function_environment()
os.environ.update(FUNCTION_ENVIRONMENT)
# As under `make run`: webhooks may be delivered to receivers on this machine (tests/event_pipeline.py).
os.environ["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
make_dynamodb_atomic()


@pytest.fixture(scope="session")
def mocked_aws() -> Iterator[None]:
    # One mock for the session: botocore clients are costly to create (~90 ms), and the
    # functions cache theirs per container, i.e. per process here.
    with mock_aws():
        # The images bucket lives for the session; tests that count its objects empty it first.
        boto3.client("s3").create_bucket(Bucket=IMAGES_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        # The bus and the webhook queue, with the rule between them, as template.yaml makes them.
        from event_pipeline import create_event_resources

        create_event_resources(EVENT_BUS, WEBHOOK_QUEUE)
        yield


@pytest.fixture(autouse=True)
def aws(mocked_aws: None) -> Iterator[None]:
    """A fresh table (from template.yaml) and a fresh random signing secret for every test, and
    the functions' environment as the template declares it (a local gateway built by an earlier
    test in the worker puts its own values in the process environment)."""
    os.environ.update(FUNCTION_ENVIRONMENT)
    from shop_common import dynamo
    from shop_common import secrets as shop_secrets

    secretsmanager = boto3.client("secretsmanager")
    dynamo.client().create_table(TableName=TABLE_NAME, **table_definition())
    secretsmanager.create_secret(Name=SECRET_NAME, SecretString=secrets.token_urlsafe(48))
    shop_secrets.forget_signing_keys()
    yield
    dynamo.client().delete_table(TableName=TABLE_NAME)
    secretsmanager.delete_secret(SecretId=SECRET_NAME, ForceDeleteWithoutRecovery=True)


@pytest.fixture(autouse=True)
def uncached_catalog_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of the catalogue counters reaches the table: the per-container cache would
    make a count depend on how fast the test runs. Tests of the cache set it themselves."""
    from products import catalog_reads

    monkeypatch.setattr(catalog_reads, "STATS_CACHE_SECONDS", 0.0)
    catalog_reads.forget_cached_stats()


@pytest.fixture(autouse=True)
def uncached_active_offers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of the active offers reaches the table (each test has a fresh one, and the
    per-container cache would carry offers over). Tests of the cache set it themselves."""
    from shop_common import offer_store

    monkeypatch.setattr(offer_store, "ACTIVE_OFFERS_CACHE_SECONDS", 0.0)
    offer_store.forget_active_offers()


@pytest.fixture
def offers_cache_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The container has read the active offers already (its cache holds them for a while), so
    a request's calls are its own: an order is then one read round and one transaction."""
    from datetime import UTC, datetime

    from shop_common import offer_store

    monkeypatch.setattr(offer_store, "ACTIVE_OFFERS_CACHE_SECONDS", 3600.0)
    offer_store.forget_active_offers()
    offer_store.active_offers(datetime.now(UTC))


@pytest.fixture
def restore_environment() -> Iterator[None]:
    """Put the process environment back as it was after a test that changes it."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def api() -> LocalApi:
    return LocalApi()


@pytest.fixture
def new_user() -> Any:
    """A factory of users: returns (user id, username, password)."""
    from shop_common.new_accounts import create_user

    counter = iter(range(1, 10_000))

    def make(username: str | None = None, password: str = "correct horse battery", **fields: Any) -> tuple[int, str, str]:
        username = username or f"user{next(counter)}"
        return create_user(username, password, **fields), username, password

    return make


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Creating users at 600k PBKDF2 iterations would cost ~0.2 s each; tests that measure the
    work factor itself undo this with `monkeypatch.undo()` or use passwords.ITERATIONS directly."""
    from shop_common import passwords

    monkeypatch.setattr(passwords, "ITERATIONS", 1_000)


# The call every signed-in request makes first: the caller's account and token state
# (shop_common.account_state), in call counts.
ACCOUNT_CHECK = "GetItem"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def signed_in(api: LocalApi, new_user: Any) -> Any:
    """A factory: creates a user and returns (user id, access-token headers)."""

    def make(**fields: Any) -> tuple[int, dict[str, str]]:
        user_id, username, password = new_user(**fields)
        tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
        return user_id, bearer(tokens["access"])

    return make


@pytest.fixture
def dynamodb_calls() -> Iterator[Any]:
    """The DynamoDB calls the functions make (the shared, per-container client is recorded)."""
    from shop_common.dynamo import client
    from shoplocal.dynamodb_calls import CallRecorder

    recorder = CallRecorder()
    recorder.attach(client())
    yield recorder
    recorder.detach(client())


def log_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the functions' powertools loggers write (their handlers keep the stdout they were
    imported with, so they are pointed at a buffer instead)."""
    from auth import handler as auth_handler
    from orders import handler as orders_handler
    from products import handler as products_handler

    buffer = io.StringIO()
    for module in (auth_handler, orders_handler, products_handler):
        monkeypatch.setattr(module.logger.registered_handler, "stream", buffer)
    return buffer


def fresh_handler(logical_id: str) -> Handler:
    """A private copy of a function's handler module: each concurrent request in AWS has its own
    container, with its own resolver and logger state."""
    return load_private_copy(functions()[logical_id])


def client_sees(value: Any) -> Any:
    """A response body as a client reads it: written as the API writes it (money as exact JSON
    numbers), then parsed by a JSON parser (numbers with a fraction as floats)."""
    from shop_common.api import json_text

    return json.loads(json_text(value))


@pytest.fixture
def events_pipeline() -> "Iterator[Pipeline]":
    """The table's stream, the events function, the bus, the webhook queue and the sender, driven
    step by step (tests/event_pipeline.py); the sender's clock starts at the real time."""
    import time

    from event_pipeline import pipeline

    with pipeline(TABLE_NAME, WEBHOOK_QUEUE, now=time.time()) as running:
        yield running


def calls_of(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """The arguments of each call to `owner.name` from now on (it still does its work): for
    tests that count how often something is parsed or built."""
    calls: list[tuple[Any, ...]] = []
    original = getattr(owner, name)

    def recorded(*arguments: Any) -> Any:
        calls.append(arguments)
        return original(*arguments)

    monkeypatch.setattr(owner, name, recorded)
    return calls
