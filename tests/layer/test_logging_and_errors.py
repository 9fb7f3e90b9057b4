"""Structured logs carry the request id and never a secret; unexpected errors leak nothing."""

import io
import json
import time
from typing import Any

import pytest

from conftest import checked_in_process, log_lines
from orders import priced_basket
from shoplocal.gateway.invoke import LocalApi


def test_unexpected_error_is_a_json_500_with_the_traceback_only_in_the_log(
    api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch, json_logs: io.StringIO
) -> None:
    _, headers = signed_in()

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("internal detail: table xyz")

    monkeypatch.setattr(priced_basket, "read_basket", broken)
    response = api.request("POST", "/api/order", json_body={"parts": [{"product": 1, "quantity_in_order": 1}]}, headers=headers)
    assert response.status == 500
    assert response.json() == {"detail": "Internal server error."}
    (line,) = [entry for entry in log_lines(json_logs.getvalue()) if entry["level"] == "ERROR"]
    assert "internal detail: table xyz" in line["exception"]
    assert line["correlation_id"]
    assert line["function_request_id"]


def test_log_lines_carry_the_request_id_and_no_token(api: LocalApi, json_logs: io.StringIO) -> None:
    response = api.request("GET", "/api/my-orders", headers={"Authorization": "Bearer secret.token.value"})
    assert response.status == 401
    output = json_logs.getvalue()
    lines = log_lines(output)
    assert lines
    assert all(line["correlation_id"] and line["function_request_id"] for line in lines)
    assert "secret.token.value" not in output


def test_a_full_session_logs_no_password_token_or_key(
    api: LocalApi, new_user: Any, json_logs: io.StringIO, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import handler as auth_handler
    from orders import handler as orders_handler
    from shop_common.secrets import jwt_signing_key

    for module in (auth_handler, orders_handler):  # the most verbose level the template allows
        module.logger.setLevel("DEBUG")
    _, username, password = new_user(password="pa55-word-never-logged")
    capfd.readouterr()
    tokens = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    api.request("POST", "/api/auth", json_body={"username": username, "password": "wrong-one-never-logged"})
    api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]})
    api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {tokens['access']}"})
    captured = capfd.readouterr()
    for module in (auth_handler, orders_handler):
        module.logger.setLevel("INFO")
    assert json_logs.getvalue()
    for secret in (password, "wrong-one-never-logged", tokens["access"], tokens["refresh"], jwt_signing_key().decode()):
        for output in (json_logs.getvalue(), captured.out, captured.err):
            assert secret not in output


def test_a_short_signing_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from shop_common import secrets

    boto3.client("secretsmanager").create_secret(Name="too-short", SecretString="short")
    monkeypatch.setenv("JWT_SECRET_ID", "too-short")
    secrets.forget_signing_keys()
    with pytest.raises(RuntimeError, match="shorter than 32"):
        secrets.jwt_signing_key()
    boto3.client("secretsmanager").delete_secret(SecretId="too-short", ForceDeleteWithoutRecovery=True)


def test_unknown_route_in_a_function_is_a_json_404(api: LocalApi) -> None:
    from shoplocal.gateway.events import http_api_event
    from shoplocal.gateway.invoke import LambdaContext, load_handler

    handler = load_handler(api.specs["ProductsFunction"])
    result = handler(http_api_event("GET", "/api/nothing-here"), LambdaContext("ProductsFunction"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"]) == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("code", "status", "body"),
    [
        ("ProvisionedThroughputExceededException", 503, {"detail": "The service is busy; please retry shortly."}),
        ("ThrottlingException", 503, {"detail": "The service is busy; please retry shortly."}),
        ("AccessDeniedException", 500, {"detail": "Internal server error."}),
    ],
)
def test_aws_errors_are_a_503_when_throttled_else_a_plain_500(
    api: LocalApi, monkeypatch: pytest.MonkeyPatch, code: str, status: int, body: dict[str, str]
) -> None:
    from botocore.exceptions import ClientError

    from products import listing

    def failing(*_: Any, **__: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "arn:aws:iam::123:role/x"}}, "Query")

    monkeypatch.setattr(listing, "product_ids_beyond", failing)
    response = api.request("GET", "/api/products")
    assert response.status == status
    assert response.json() == body
    assert ("retry-after" in response.headers) == (status == 503)


def test_the_aws_clients_give_up_well_inside_the_function_timeout() -> None:
    from shop_common import dynamo, secrets
    from shop_common.aws import lean_client, use_transports
    from shop_common.aws.services import DYNAMODB, SECRETS_MANAGER
    from shop_common.aws.transport import HttpTransport
    from shoplocal.template import load_template

    function_timeout = load_template()["Globals"]["Function"]["Timeout"]
    for module, service in ((dynamo, DYNAMODB), (secrets, SECRETS_MANAGER)):
        assert function_timeout > module.CONNECT_TIMEOUT + module.READ_TIMEOUT
        use_transports(None)  # the transport deployed functions get
        try:
            lean: Any = lean_client(service, connect_timeout=module.CONNECT_TIMEOUT, read_timeout=module.READ_TIMEOUT)
        finally:
            use_transports(checked_in_process)
        assert isinstance(lean.transport, HttpTransport)
        assert (lean.transport.connect_timeout, lean.transport.read_timeout) == (module.CONNECT_TIMEOUT, module.READ_TIMEOUT)
    # Where boto3's client serves instead (another environment), its Config says the same.
    config: Any = dynamo.client().boto3_client.meta.config  # type: ignore[attr-defined]  # botocore's Config sets its attributes dynamically
    assert (config.connect_timeout, config.read_timeout) == (dynamo.CONNECT_TIMEOUT, dynamo.READ_TIMEOUT)
    assert config.retries == {"mode": "standard", "total_max_attempts": DYNAMODB.max_attempts}


def test_batch_reads_left_unprocessed_are_retried_then_a_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from shop_common import catalog, dynamo
    from shop_common.errors import ServiceBusy

    calls: list[Any] = []

    class ThrottledClient:
        def batch_get_item(self, RequestItems: Any) -> Any:
            calls.append(RequestItems)
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

    monkeypatch.setattr(dynamo, "client", ThrottledClient)
    monkeypatch.setattr(time, "sleep", lambda _: None)
    with pytest.raises(ServiceBusy):
        catalog.get_products([1, 2])
    assert len(calls) == 8


def test_batch_reads_collect_what_a_throttled_first_call_left_over(monkeypatch: pytest.MonkeyPatch) -> None:
    from decimal import Decimal

    from shop_common import catalog, dynamo
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    add_products([NewProduct(name=f"P{n}", price=Decimal(1), quantity=n) for n in range(3)])
    from shop_common.dynamo import client

    real_client = client()
    first_call = True

    class HalfThrottledClient:
        def batch_get_item(self, RequestItems: Any) -> Any:
            nonlocal first_call
            response: Any = real_client.batch_get_item(RequestItems=RequestItems)
            if first_call:
                first_call = False
                ((table, items),) = response["Responses"].items()
                served = items[:1]
                served_key = {"S": f"PRODUCT#{served[0]['id']['N']}"}
                left = [key for key in RequestItems[table]["Keys"] if key["PK"] != served_key]
                response["Responses"][table] = served
                response["UnprocessedKeys"] = {table: {**RequestItems[table], "Keys": left}}
            return response

    monkeypatch.setattr(dynamo, "client", HalfThrottledClient)
    monkeypatch.setattr(time, "sleep", lambda _: None)
    assert sorted(catalog.get_products([1, 2, 3])) == [1, 2, 3]
