"""SnapStart hooks: registered with the runtime's module when it exists, run in the order Lambda
runs them, and leave nothing shared that a restored environment must have its own of."""

import http.server
import json
import os
import random
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import boto3
import pytest

from shop_common import dynamo, secrets, snapstart


class FakeSnapStartRuntime(types.ModuleType):
    """Stands in for `snapshot_restore_py`: Lambda runs the before-snapshot hooks in reverse
    order of registration and the after-restore hooks in order of registration."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []

    def register_before_snapshot(self, hook: Callable[[], None]) -> Callable[[], None]:
        self.before.append(hook)
        return hook

    def register_after_restore(self, hook: Callable[[], None]) -> Callable[[], None]:
        self.after.append(hook)
        return hook

    def snapshot(self) -> None:
        for hook in reversed(self.before):
            hook()

    def restore(self) -> None:
        for hook in self.after:
            hook()


@pytest.fixture(autouse=True)
def own_clients(restore_environment: None) -> Iterator[None]:
    """The hooks replace the container's clients and keys: later tests get fresh ones."""
    yield
    dynamo.forget_client()
    secrets.forget_client()
    secrets.forget_signing_keys()


def test_without_the_snapstart_runtime_nothing_is_registered() -> None:
    with pytest.raises(ImportError):
        __import__("snapshot_restore_py")
    assert snapstart.register_hooks() is False


def test_hooks_run_around_the_snapshot_in_the_order_lambda_runs_them() -> None:
    runtime = FakeSnapStartRuntime()
    events: list[str] = []
    runtime.register_before_snapshot(lambda: events.append("handler's own before-snapshot"))
    assert snapstart.register_hooks(runtime) is True
    runtime.register_after_restore(lambda: events.append("handler's own after-restore"))
    assert runtime.before == [runtime.before[0], snapstart.before_snapshot]
    assert runtime.after == [snapstart.after_restore, runtime.after[1]]
    runtime.snapshot()
    assert events == ["handler's own before-snapshot"]  # ours ran first (registered last)
    runtime.restore()
    assert events[-1] == "handler's own after-restore"  # ours ran first (registered first)


def test_before_snapshot_prepares_the_client_and_the_signing_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[bool] = []
    fetch = secrets._fetch

    def counted_fetch() -> secrets.SigningKeys:
        reads.append(True)
        return fetch()

    monkeypatch.setattr(secrets, "_fetch", counted_fetch)
    dynamo.client.cache_clear()
    snapstart.before_snapshot()
    assert dynamo.client.cache_info().currsize == 1
    assert reads == [True]
    secrets.signing_keys()
    dynamo.client()
    assert reads == [True]  # the first request finds both ready
    assert dynamo.client.cache_info().hits >= 1


def test_a_function_without_the_signing_secret_never_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET_ID")
    monkeypatch.setattr(secrets, "_fetch", lambda: pytest.fail("the products function may not read the secret"))
    snapstart.before_snapshot()
    assert dynamo.client.cache_info().currsize == 1


def test_after_restore_the_keys_are_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    snapstart.before_snapshot()
    before = secrets.signing_keys()
    boto3.client("secretsmanager").put_secret_value(SecretId=os.environ["JWT_SECRET_ID"], SecretString="r" * 48)
    snapstart.after_restore()
    after = secrets.signing_keys()
    assert after.current == b"r" * 48
    assert after.previous == before.current


def signing_access_key() -> str:
    lean: Any = dynamo.client().lean  # type: ignore[attr-defined]
    return str(lean.credentials.frozen().access_key)


def test_after_restore_the_clients_use_the_restored_environments_credentials() -> None:
    snapstart.before_snapshot()
    snapshot_client = dynamo.client()
    snapshot_key = signing_access_key()
    os.environ["AWS_ACCESS_KEY_ID"] = snapshot_key + "-restored"
    snapstart.after_restore()
    assert dynamo.client() is not snapshot_client
    assert signing_access_key() == snapshot_key + "-restored"
    dynamo.client().get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "X"}, "SK": {"S": "X"}})  # and it works


def test_after_restore_no_connection_of_the_snapshot_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    snapstart.before_snapshot()
    secrets.signing_keys()
    closed: list[str] = []
    for name, lean in (("dynamodb", dynamo.client().lean), ("secretsmanager", secrets._client())):  # type: ignore[attr-defined]
        monkeypatch.setattr(lean.transport, "close", lambda name=name: closed.append(name))
    snapstart.after_restore()
    assert sorted(closed) == ["dynamodb", "secretsmanager"]


class ContainerCredentials(http.server.BaseHTTPRequestHandler):
    """Lambda's container credentials endpoint, as a SnapStart function gets its credentials:
    answers the current keys to a request carrying the authorization token."""

    keys: ClassVar[dict[str, str]] = {
        "AccessKeyId": "snapshot",
        "SecretAccessKey": "secret",
        "Token": "token",
        "Expiration": "2099-01-01T00:00:00Z",
    }

    def do_GET(self) -> None:
        assert self.headers["Authorization"] == "container-token"
        body = json.dumps(self.keys).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_with_container_credentials_a_restore_resolves_them_again() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ContainerCredentials)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"http://127.0.0.1:{server.server_address[1]}/credentials"
        os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "container-token"
        snapstart.before_snapshot()
        assert signing_access_key() == "snapshot"
        ContainerCredentials.keys = {**ContainerCredentials.keys, "AccessKeyId": "restored"}
        snapstart.after_restore()
        assert signing_access_key() == "restored"
    finally:
        server.shutdown()


def test_every_restore_draws_its_own_random_numbers() -> None:
    snapstart.before_snapshot()
    snapshot_state = random.getstate()
    draws = []
    for _ in range(2):  # two environments restored from the same snapshot
        random.setstate(snapshot_state)
        snapstart.after_restore()
        draws.append([random.random() for _ in range(4)])  # noqa: S311 - the generator under test
    assert draws[0] != draws[1]
