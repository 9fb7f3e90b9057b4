"""template.yaml: what cfn-lint cannot check (routes, runtime, least privilege), and that it
validates and builds with the SAM CLI."""

import fnmatch
import importlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT, functions, load_template

SAM = PROJECT_ROOT / ".venv-sam" / "bin" / "sam"
CONTRACT_ROUTES = {
    ("POST", "/api/auth"): "AuthFunction",
    ("POST", "/api/refresh"): "AuthFunction",
    ("POST", "/api/register"): "AuthFunction",
    ("POST", "/api/logout"): "AuthFunction",
    ("GET", "/api/users"): "StaffUsersFunction",
    ("PATCH", "/api/users/{user_id}"): "StaffUsersFunction",
    ("GET", "/api/me"): "AuthFunction",
    ("PATCH", "/api/me"): "AuthFunction",
    ("POST", "/api/me/password"): "AuthFunction",
    ("GET", "/api/products"): "ProductsFunction",
    ("GET", "/api/products/{product_id}"): "ProductsFunction",
    ("POST", "/api/products"): "CatalogAdminFunction",
    ("PATCH", "/api/products/{product_id}"): "CatalogAdminFunction",
    ("DELETE", "/api/products/{product_id}"): "CatalogAdminFunction",
    ("POST", "/api/products/{product_id}/stock"): "CatalogAdminFunction",
    ("GET", "/api/products/{product_id}/images"): "CatalogAdminFunction",
    ("POST", "/api/products/{product_id}/images"): "CatalogAdminFunction",
    ("PATCH", "/api/products/{product_id}/images"): "CatalogAdminFunction",
    ("DELETE", "/api/products/{product_id}/images/{image_id}"): "CatalogAdminFunction",
    ("POST", "/api/order"): "OrdersFunction",
    ("GET", "/api/my-orders"): "OrdersFunction",
    ("GET", "/api/orders"): "OrdersFunction",
    ("POST", "/api/order/quote"): "OrdersFunction",
    ("GET", "/api/orders/{order_id}"): "OrdersFunction",
    ("POST", "/api/orders/{order_id}/cancel"): "OrdersFunction",
    ("GET", "/api/offers"): "OffersFunction",
    ("POST", "/api/offers"): "OffersFunction",
    ("PATCH", "/api/offers/{offer_id}"): "OffersFunction",
    ("DELETE", "/api/offers/{offer_id}"): "OffersFunction",
    ("GET", "/api/docs"): "DocsFunction",
    ("GET", "/api/docs/{file}"): "DocsFunction",
    ("GET", "/api/openapi.json"): "DocsFunction",
    # Every request no other route takes: a JSON 404, or a 405 with Allow.
    ("ANY", "$default"): "DocsFunction",
    ("POST", "/api/webhooks"): "WebhooksFunction",
    ("GET", "/api/webhooks"): "WebhooksFunction",
    ("GET", "/api/webhooks/{webhook_id}"): "WebhooksFunction",
    ("PATCH", "/api/webhooks/{webhook_id}"): "WebhooksFunction",
    ("DELETE", "/api/webhooks/{webhook_id}"): "WebhooksFunction",
    ("POST", "/api/webhooks/{webhook_id}/rotate-secret"): "WebhooksFunction",
    ("GET", "/api/webhooks/{webhook_id}/deliveries"): "WebhooksFunction",
    ("POST", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): "WebhooksFunction",
}


def test_routes_are_exactly_the_contract() -> None:
    routes = {(route.method, route.path): spec.logical_id for spec in functions().values() for route in spec.routes}
    assert routes == CONTRACT_ROUTES


def test_every_handler_exists_in_its_code_folder() -> None:
    for spec in functions().values():
        assert spec.module_file.is_file()
        module = importlib.import_module(spec.module)
        assert Path(module.__file__ or "").parent == (spec.code_dir / spec.package).resolve()
        assert callable(getattr(module, spec.function_name))


def test_no_function_package_shares_its_name_with_another_importable_module() -> None:
    """Lambda, the tests and the tools put every function's package on one path: none may shadow
    (or be shadowed by) the standard library or anything installed."""
    folders = {str(spec.code_dir.resolve()) for spec in functions().values()}
    elsewhere = [entry for entry in sys.path if str(Path(entry or ".").resolve()) not in folders]
    for spec in functions().values():
        assert spec.package not in sys.stdlib_module_names, spec.package
        found = importlib.machinery.PathFinder.find_spec(spec.package, elsewhere)
        assert found is None or found.origin is None, (spec.package, found.origin)  # at most a namespace of folders


def test_lambda_and_the_local_virtualenv_run_the_same_python() -> None:
    function_globals = load_template()["Globals"]["Function"]
    assert function_globals["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    layer = load_template()["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == [function_globals["Runtime"]]


def test_the_architecture_is_one_parameter_arm64_by_default() -> None:
    """Functions, the layer's compatibility and both makefile builds follow it (`make sam-local`
    builds for the machine's own; a deploy gets Graviton unless told otherwise)."""
    template = load_template()
    parameter = template["Parameters"]["Architecture"]
    assert parameter["Default"] == "arm64"
    assert parameter["AllowedValues"] == ["arm64", "x86_64"]
    architecture = {"Ref": "Architecture"}
    assert template["Globals"]["Function"]["Architectures"] == [architecture]
    layer = template["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleArchitectures"] == [architecture]
    assert layer["Metadata"]["BuildArchitecture"] == architecture
    assert template["Resources"]["DocsFunction"]["Metadata"]["BuildArchitecture"] == architecture
    assert not any("Architectures" in spec.get("Properties", {}) for spec in template["Resources"].values())


def test_table_keeps_its_data() -> None:
    table = load_template()["Resources"]["ShopTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_signing_key_is_generated_never_written_down() -> None:
    secret = load_template()["Resources"]["JwtSigningSecret"]["Properties"]
    assert "SecretString" not in secret
    assert secret["GenerateSecretString"]["PasswordLength"] >= 64
    for spec in functions().values():
        for name, value in spec.environment.items():
            if "SECRET" in name or "KEY" in name:
                assert value == {"Ref": "JwtSigningSecret"}, name


def test_a_deployed_stack_has_no_endpoint_override() -> None:
    """The endpoint variable exists only for `sam local` against the embedded store: with the
    parameter's default (empty), the functions get no AWS_ENDPOINT_URL at all."""
    template = load_template()
    assert template["Parameters"]["LocalEndpointUrl"]["Default"] == ""
    assert template["Conditions"]["UseLocalEndpoint"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "LocalEndpointUrl"}, ""]}]}
    for spec in functions().values():
        assert spec.environment["AWS_ENDPOINT_URL"] == {
            "Fn::If": ["UseLocalEndpoint", {"Ref": "LocalEndpointUrl"}, {"Ref": "AWS::NoValue"}]
        }


def test_cors_origins_are_a_parameter() -> None:
    api = load_template()["Resources"]["ShopHttpApi"]["Properties"]
    assert api["CorsConfiguration"]["AllowOrigins"] == {"Ref": "AllowedOrigins"}


# Response headers a browser lets a script read without their being exposed (the Fetch
# standard's CORS-safelisted response header names).
_SAFELISTED_RESPONSE_HEADERS = {
    "cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma",
}  # fmt: skip


def test_cors_allows_every_request_header_and_exposes_every_response_header_the_api_documents() -> None:
    """A browser can send `Idempotency-Key` and read `Link`, `Retry-After`, `Idempotent-Replayed`
    (and the `Allow` of a 405) only if CORS says so."""
    cors = load_template()["Resources"]["ShopHttpApi"]["Properties"]["CorsConfiguration"]
    document = json.loads((PROJECT_ROOT / "docs" / "openapi.json").read_text())
    operations = [operation for path in document["paths"].values() for operation in path.values()]
    sent = {p["name"].lower() for o in operations for p in o.get("parameters", []) if p["in"] == "header"}
    answered = {name.lower() for o in operations for r in o["responses"].values() for name in r.get("headers", {})}
    assert sent >= {"idempotency-key"}
    assert answered >= {"link", "retry-after", "idempotent-replayed"}
    assert set(cors["AllowHeaders"]) == sent | {"authorization", "content-type"}
    assert set(cors["ExposeHeaders"]) == (answered | {"allow"}) - _SAFELISTED_RESPONSE_HEADERS


# --- least privilege: each function is granted exactly the DynamoDB calls it makes ------------


def _resource(value: Any) -> str:
    if value == {"Fn::GetAtt": ["ShopTable", "Arn"]}:
        return "table"
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${ShopTable.Arn}", "table")
    return str(value)


def _partition_value(call: Any) -> str:
    _, _, value_name = call.params["KeyConditionExpression"].split(" AND ")[0].partition(" = ")
    return str(call.params["ExpressionAttributeValues"][value_name.strip()]["S"])


_EXPRESSION_WORDS = {
    "SET", "REMOVE", "ADD", "DELETE", "AND", "OR", "NOT", "BETWEEN", "IN", "attribute_exists",
    "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists", "list_append",
}  # fmt: skip


def _attribute_names(params: dict[str, Any], *expressions: str) -> set[str]:
    """Top-level attribute names the expressions of a request name (placeholders resolved; the
    parts of a document path after a dot, such as a map's keys, are not attributes)."""
    substitutions = params.get("ExpressionAttributeNames", {})
    names = set()
    for expression in (params.get(name, "") for name in expressions):
        for token in re.findall(r":\w+|(?<![.\w#])[#A-Za-z_][\w#]*", expression):
            if not token.startswith(":") and token not in _EXPRESSION_WORDS:
                names.add(substitutions.get(token, token))
    return names


@dataclass(frozen=True)
class Access:
    """One item-level access as IAM evaluates it."""

    action: str
    resource: str
    partition: str
    attributes: frozenset[str] | None  # None: every attribute (no projection, or old values returned)
    enclosing_operation: str | None = None
    return_values: str | None = None
    # The partition keys of every item of the same request (a BatchGetItem's keys): a
    # ForAllValues condition must allow all of them in one statement.
    request_partitions: frozenset[str] = frozenset()


def _transaction_accesses(params: dict[str, Any]) -> set[Access]:
    accesses = set()
    for item in params["TransactItems"]:
        ((kind, write),) = item.items()
        key = write["Item"] if kind == "Put" else write["Key"]
        action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, "ConditionCheckItem")
        names = {*key, *_attribute_names(write, "UpdateExpression", "ConditionExpression")}
        everything = write.get("ReturnValuesOnConditionCheckFailure", "NONE") != "NONE"
        attributes = None if everything else frozenset(names)
        accesses.add(Access(f"dynamodb:{action}", "table", key["PK"]["S"], attributes, "TransactWriteItems"))
    return accesses


def _accesses(calls: list[Any]) -> set[Access]:
    """Every item-level access the calls made."""
    accesses = set()
    for call in calls:
        params = call.params
        projected = (
            frozenset({"PK", "SK", *_attribute_names(params, "ProjectionExpression")})
            if "ProjectionExpression" in params
            else None
        )
        if call.operation == "GetItem":
            accesses.add(Access("dynamodb:GetItem", "table", params["Key"]["PK"]["S"], projected))
        elif call.operation == "Query":
            resource = f"table/index/{params['IndexName']}" if "IndexName" in params else "table"
            accesses.add(Access("dynamodb:Query", resource, _partition_value(call), projected))
        elif call.operation == "BatchGetItem":
            for request in params["RequestItems"].values():
                names = frozenset({"PK", "SK", *_attribute_names(request, "ProjectionExpression")})
                partitions = frozenset(key["PK"]["S"] for key in request["Keys"])
                accesses |= {
                    Access("dynamodb:BatchGetItem", "table", key, names, request_partitions=partitions) for key in partitions
                }
        elif call.operation == "TransactWriteItems":
            accesses |= _transaction_accesses(params)
        elif call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params["Item"] if call.operation == "PutItem" else params["Key"]
            written = {*key, *_attribute_names(params, "UpdateExpression", "ConditionExpression")}
            return_values = params.get("ReturnValues", "NONE")
            attributes = frozenset(written) if return_values in ("NONE", "UPDATED_OLD", "UPDATED_NEW") else None
            accesses.add(Access(f"dynamodb:{call.operation}", "table", key["PK"]["S"], attributes, None, return_values))
        else:
            accesses.add(Access(f"dynamodb:{call.operation}", "table", "?", None, None, params.get("ReturnValues", "NONE")))
    return accesses


@dataclass(frozen=True)
class Grant:
    actions: frozenset[str]
    resource: str
    partitions: tuple[str, ...]
    attributes: frozenset[str] | None  # None: no dynamodb:Attributes condition
    enclosing_operations: frozenset[str] | None
    return_values: frozenset[str] | None  # StringEqualsIfExists: absent is fine

    def allows(self, access: Access) -> bool:
        return (
            access.action in self.actions
            and access.resource == self.resource
            and all(
                any(fnmatch.fnmatchcase(partition, pattern) for pattern in self.partitions)
                for partition in {access.partition, *access.request_partitions}
            )
            and (self.attributes is None or (access.attributes is not None and access.attributes <= self.attributes))
            and (self.enclosing_operations is None or access.enclosing_operation in self.enclosing_operations)
            and (self.return_values is None or access.return_values is None or access.return_values in self.return_values)
        )


KNOWN_CONDITIONS = {
    ("ForAllValues:StringLike", "dynamodb:LeadingKeys"),
    ("ForAllValues:StringEquals", "dynamodb:Attributes"),
    ("ForAnyValue:StringEquals", "dynamodb:EnclosingOperation"),
    ("StringEqualsIfExists", "dynamodb:ReturnValues"),
}


def _as_set(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(value if isinstance(value, list) else [value])


def _grant(statement: dict[str, Any]) -> Grant:
    conditions = statement.get("Condition", {})
    used = {(operator, key) for operator, keys in conditions.items() for key in keys}
    assert used <= KNOWN_CONDITIONS, f"the policy test does not model {used - KNOWN_CONDITIONS}"
    return Grant(
        actions=frozenset(_as_set(statement["Action"]) or ()),
        resource=_resource(statement["Resource"]),
        partitions=tuple(conditions.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", ["*"])),
        attributes=_as_set(conditions.get("ForAllValues:StringEquals", {}).get("dynamodb:Attributes")),
        enclosing_operations=_as_set(conditions.get("ForAnyValue:StringEquals", {}).get("dynamodb:EnclosingOperation")),
        return_values=_as_set(conditions.get("StringEqualsIfExists", {}).get("dynamodb:ReturnValues")),
    )


STREAM_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}


def dynamodb_grants(function: str) -> list[Grant]:
    """The function's grants on the table and its indexes (its stream's are the event source
    mapping's: tested apart)."""
    return [
        _grant(s)
        for s in functions()[function].policy_statements
        if str(s["Action"]).startswith(("dynamodb", "['dynamodb")) and not set(_as_set(s["Action"]) or ()) <= STREAM_ACTIONS
    ]


def exercise(api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[list[Any], bool]]:
    """Drive every DynamoDB path of every function. Per function: the DynamoDB calls it made,
    and whether it read the signing key."""
    from decimal import Decimal

    import shop_common.tokens
    from shop_common import secrets as shop_secrets
    from shop_common.catalog import add_products
    from shop_common.dynamo import client
    from shop_common.models import NewProduct
    from shop_common.new_accounts import create_user
    from shoplocal.dynamodb_calls import CallRecorder

    product, scarce = add_products([NewProduct(name=f"P{n}", price=Decimal(1), quantity=5) for n in range(2)])
    create_user("iam-user", "pw-iam-check")
    customer_id, headers = signed_in()
    _, staff = signed_in(is_staff=True)
    tokens = api.request("POST", "/api/auth", json_body={"username": "iam-user", "password": "pw-iam-check"}).json()
    # Two more sign-ins to log out: the first creates the map of signed-out sign-ins, the second
    # finds it full (a bound of 1 here) and signs the account out everywhere.
    from auth import sign_outs

    other_sign_ins = [
        api.request("POST", "/api/auth", json_body={"username": "iam-user", "password": "pw-iam-check"}).json() for _ in range(2)
    ]
    monkeypatch.setattr(sign_outs, "MAX_SIGNED_OUT", 1)
    monkeypatch.setenv("ROTATE_REFRESH_TOKENS", "true")  # refresh revokes the token it rotates
    order = {"parts": [{"product": product.id, "quantity_in_order": 1}]}
    own = {"Authorization": f"Bearer {tokens['access']}"}
    regular_id, _ = signed_in()
    _, staff = signed_in(is_staff=True)
    # An offer limited per customer, so orders read the customer's uses and count them.
    loyal: dict[str, Any] = {"kind": "percent_off", "name": "Loyal", "starts_at": "2026-01-01T00:00:00Z", "percent": "5"}
    loyal |= {"products": [product.id], "max_uses_per_customer": 3}
    assert api.request("POST", "/api/offers", json_body=loyal, headers=staff).status == 201  # offer 1
    order_id = api.request("POST", "/api/order", json_body=order, headers=headers).json()["id"]
    # Stock crossing 0: an order that sells a product out (and its cancellation bringing it back).
    sell_out = {"parts": [{"product": scarce.id, "quantity_in_order": 5}]}
    sold_out_id = api.request("POST", "/api/order", json_body=sell_out, headers=headers).json()["id"]
    photo_upload = {"content_type": "image/png", "content_length": 1000}
    offer = {"kind": "percent_off", "name": "Ten off", "starts_at": "2026-01-01T00:00:00Z", "percent": "10", "max_uses": 5}
    photo = upload_photo(api, staff, scarce.id, checked=True)  # a checked photo, for the staff photo routes
    scenarios: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "AuthFunction": [
            # Ten failures take all ten slots of the sign-in throttle; the eleventh try is a 429.
            *[
                ("POST", "/api/auth", {"json_body": {"username": "guessed", "password": "a wrong guess"}, "expect": 401})
                for _ in range(10)
            ],
            ("POST", "/api/auth", {"json_body": {"username": "guessed", "password": "a wrong guess"}, "expect": 429}),
            ("POST", "/api/auth", {"json_body": {"username": "iam-user", "password": "a wrong guess"}, "expect": 401}),
            ("POST", "/api/auth", {"json_body": {"username": "iam-user", "password": "pw-iam-check"}}),
            ("POST", "/api/refresh", {"json_body": {"refresh": tokens["refresh"]}}),
            ("GET", "/api/me", {"headers": own}),
            ("PATCH", "/api/me", {"json_body": {"first_name": "Ima", "email": "ima@example.com"}, "headers": own}),
            ("PATCH", "/api/me", {"json_body": {"email": "ima.user@example.com"}, "headers": own}),
            ("POST", "/api/logout", {"json_body": {"refresh": other_sign_ins[0]["refresh"]}}),
            (
                "POST",
                "/api/register",
                {"json_body": {"username": "newcomer", "password": "a fine passphrase", "email": "new@example.com"}},
            ),
            (
                "POST",
                "/api/me/password",
                {"json_body": {"current_password": "pw-iam-check", "new_password": "a brand new passphrase"}, "headers": own},
            ),
            ("POST", "/api/logout", {"json_body": {"refresh": other_sign_ins[1]["refresh"]}}),
        ],
        "StaffUsersFunction": [
            ("GET", "/api/users", {"query_string": "prefix=i&limit=1", "headers": staff}),
            ("PATCH", f"/api/users/{regular_id}", {"json_body": {"is_active": False, "is_staff": True}, "headers": staff}),
        ],
        "ProductsFunction": [
            ("GET", "/api/products", {"query_string": "limit=5"}),
            ("GET", "/api/products", {"query_string": "page=1&limit=1&cursor=YTA"}),
            ("GET", "/api/products", {"query_string": "page=2&limit=1"}),
            ("GET", "/api/products", {"query_string": "in_stock=true&min_price=1&ordering=-price"}),
            ("GET", "/api/products", {"query_string": "in_stock=false"}),
            ("GET", "/api/products", {"query_string": "search=p0x&in_stock=true"}),  # a typo: the partition is read
            ("GET", f"/api/products/{product.id}", {}),
        ],
        "OrdersFunction": [
            ("POST", "/api/order", {"json_body": order, "headers": headers}),
            ("GET", "/api/my-orders", {"headers": headers}),
            ("POST", "/api/order/quote", {"json_body": order, "headers": headers}),
            ("GET", f"/api/orders/{order_id}", {"headers": headers}),
            ("GET", f"/api/orders/{order_id}", {"headers": staff}),
            ("GET", "/api/orders", {"query_string": "limit=2", "headers": staff}),
            ("GET", "/api/orders", {"query_string": f"user={customer_id}&status=placed", "headers": staff}),
            ("POST", f"/api/orders/{order_id}/cancel", {"headers": headers}),
            ("POST", f"/api/orders/{sold_out_id}/cancel", {"headers": headers}),
            ("POST", "/api/order", {"json_body": sell_out, "headers": headers}),
            ("POST", "/api/order", {"json_body": order, "headers": {**headers, "Idempotency-Key": "iam-1"}}),
            (
                "POST",
                "/api/order",
                {
                    "json_body": {"parts": [{"product": product.id, "quantity_in_order": 999}]},
                    "headers": {**headers, "Idempotency-Key": "iam-2"},
                    "expect": 400,  # a refused request's record is deleted
                },
            ),
        ],
        "CatalogAdminFunction": [
            (
                "POST",
                "/api/products",
                {"json_body": {"name": "N", "price": "1.00", "quantity": 1, "sku": "A-1"}, "headers": staff},
            ),
            ("PATCH", f"/api/products/{product.id}", {"json_body": {"sku": "B-2", "price": "2.00"}, "headers": staff}),
            ("POST", f"/api/products/{product.id}/stock", {"json_body": {"delta": -1}, "headers": staff}),
            ("POST", f"/api/products/{scarce.id}/stock", {"json_body": {"delta": 2}, "headers": staff}),  # back in stock
            ("POST", f"/api/products/{scarce.id}/images", {"json_body": photo_upload, "headers": staff}),
            ("PATCH", f"/api/products/{scarce.id}/images", {"json_body": {"order": [photo]}, "headers": staff}),
            ("DELETE", f"/api/products/{scarce.id}/images/{photo}", {"headers": staff}),
            ("DELETE", f"/api/products/{product.id}", {"headers": staff}),
        ],
        "OffersFunction": [
            ("POST", "/api/offers", {"json_body": offer, "headers": staff}),
            ("PATCH", "/api/offers/2", {"json_body": {"percent": "15", "ends_at": None}, "headers": staff}),
            ("GET", "/api/offers", {}),
            ("GET", "/api/offers", {"query_string": "all=true", "headers": staff}),
            ("DELETE", "/api/offers/2", {"headers": staff}),
        ],
    }
    # Webhooks: two endpoints, one failing then healthy, one failing until disabled; the sender's
    # calls are its own (fan-out, attempts, the endpoints' health), recorded before the staff API's.
    sender_calls, delivery_path = exercise_webhook_sender(api, staff, monkeypatch)
    webhook = {"url": "http://127.0.0.1:9/new", "events": ["order.placed"]}
    scenarios["WebhooksFunction"] = [
        ("POST", "/api/webhooks", {"json_body": webhook, "headers": staff}),
        ("GET", "/api/webhooks", {"headers": staff}),
        ("GET", delivery_path.split("/deliveries")[0], {"headers": staff}),
        ("PATCH", delivery_path.split("/deliveries")[0], {"json_body": {"description": "Ours"}, "headers": staff}),
        ("POST", delivery_path.split("/deliveries")[0] + "/rotate-secret", {"headers": staff}),
        ("GET", delivery_path.split("/deliveries")[0] + "/deliveries", {"headers": staff}),
        ("POST", delivery_path + "/redeliver", {"headers": staff}),
        ("DELETE", delivery_path.split("/deliveries")[0], {"headers": staff}),
    ]
    key_reads: list[int] = []
    real_keys = shop_secrets.signing_keys

    def counting_keys(*, unknown_kid: bool = False) -> shop_secrets.SigningKeys:
        key_reads.append(1)
        return real_keys(unknown_kid=unknown_kid)

    monkeypatch.setattr(shop_common.tokens, "signing_keys", counting_keys)
    recorder = CallRecorder()
    recorder.attach(client())
    observed = {}
    for function, requests in scenarios.items():
        recorder.clear()
        key_reads.clear()
        for method, path, arguments in requests:
            expected = arguments.pop("expect", None)  # a failure path, e.g. a wrong password
            status = api.request(method, path, **arguments).status
            assert status == expected if expected else status < 300, (method, path, status)
        observed[function] = (list(recorder.calls), bool(key_reads))
    # The photo checker, on S3's events: a photo accepted, and one refused (not an image).
    uploads = [upload_photo(api, staff, scarce.id, checked=False) for _ in range(2)]
    recorder.clear()
    for image_id, content in zip(
        uploads, (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01", b"text"), strict=True
    ):
        run_photo_check(scarce.id, image_id, content)
    observed["ImageCheckFunction"] = (list(recorder.calls), False)
    observed["WebhookSenderFunction"] = (sender_calls, False)
    return observed


def exercise_webhook_sender(api: LocalApi, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], str]:
    """Every DynamoDB path of the webhook sender, on one event: its calls, and the path of a
    delivery (for the staff API's redelivery)."""
    import time

    from conftest import TABLE_NAME, WEBHOOK_QUEUE
    from event_pipeline import pipeline, receiver
    from shop_common.dynamo import client
    from shoplocal.dynamodb_calls import CallRecorder

    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "0,0")
    monkeypatch.setenv("WEBHOOK_DISABLE_AFTER_SECONDS", "0")
    body = {"events": ["user.registered"]}
    with (
        pipeline(TABLE_NAME, WEBHOOK_QUEUE, now=time.time()) as events,
        receiver([500]) as recovers,
        receiver([500] * 3) as fails,
    ):
        healthy = api.request("POST", "/api/webhooks", json_body={**body, "url": recovers.url}, headers=staff).json()
        api.request("POST", "/api/webhooks", json_body={**body, "url": fails.url}, headers=staff)
        api.request("POST", "/api/register", json_body={"username": "hooked", "password": "a fine passphrase"})
        events.publish()
        recorder = CallRecorder()
        recorder.attach(client())
        try:
            events.deliver()  # fan-out; failing; healthy again; disabled; skipped
        finally:
            recorder.detach(client())
    (delivery,) = api.request("GET", f"/api/webhooks/{healthy['id']}/deliveries", headers=staff).json()
    return list(recorder.calls), f"/api/webhooks/{healthy['id']}/deliveries/{delivery['id']}"


def upload_photo(api: LocalApi, staff: dict[str, str], product_id: int, *, checked: bool) -> str:
    """A photo of the product, pending (not uploaded yet) or checked; its id."""
    body = {"content_type": "image/png", "content_length": 1000}
    image_id: str = api.request("POST", f"/api/products/{product_id}/images", json_body=body, headers=staff).json()["image"]["id"]
    if checked:
        run_photo_check(product_id, image_id, b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x02\x00\x00\x00\x02")
    return image_id


def run_photo_check(product_id: int, image_id: str, content: bytes) -> None:
    """The file arrives in the bucket and S3 notifies the checker."""
    import boto3

    from conftest import IMAGES_BUCKET
    from image_check import handler as image_check_handler
    from shoplocal.gateway.invoke import Handler, LambdaContext
    from shoplocal.gateway.s3_events import object_created_event

    key = f"products/{product_id}/{image_id}"
    boto3.client("s3").put_object(Bucket=IMAGES_BUCKET, Key=key, Body=content, ContentType="image/png")
    handler: Handler = image_check_handler.lambda_handler
    handler(object_created_event(IMAGES_BUCKET, key, len(content), "eu-west-1"), LambdaContext("check"))


def test_each_function_is_granted_exactly_the_dynamodb_access_it_uses(
    api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    observed = exercise(api, signed_in, monkeypatch)
    for function, (calls, _) in observed.items():
        grants = dynamodb_grants(function)
        accesses = _accesses(calls)
        assert accesses, function
        for access in accesses:
            assert any(grant.allows(access) for grant in grants), f"{function} needs {access} but is not granted it"
        for grant in grants:
            for action in grant.actions:
                for pattern in grant.partitions:
                    assert any(
                        a.action == action and a.resource == grant.resource and fnmatch.fnmatchcase(a.partition, pattern)
                        for a in accesses
                    ), f"{function} is granted {action} on {grant.resource} for {pattern} but never uses it"
            if grant.attributes is not None:
                names = set().union(*(a.attributes or () for a in accesses if grant.allows(a)))
                assert names == grant.attributes, f"{function} is granted attributes {grant.attributes - names} it never uses"


def test_attribute_conditions_list_the_key_attributes() -> None:
    """AWS: with dynamodb:Attributes, the table's key attributes must be listed, or DynamoDB
    cannot use them to carry out the request."""
    for function in functions():
        for grant in dynamodb_grants(function):
            if grant.attributes is not None:
                assert {"PK", "SK"} <= grant.attributes, function


def test_the_orders_function_cannot_reach_profiles_or_product_prices() -> None:
    """What the key design and the attribute conditions are for (issue: IAM wider than the code)."""
    grants = dynamodb_grants("OrdersFunction")
    profile = "USER#1"
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"):
        for attributes in (frozenset({"PK", "SK", "is_staff"}), frozenset({"PK", "SK", "is_active"}), None):
            access = Access(action, "table", profile, attributes, "TransactWriteItems")
            assert not any(grant.allows(access) for grant in grants), access
    # It reads the staff flag (staff see and cancel any order), and no other profile attribute.
    staff_flag = Access("dynamodb:GetItem", "table", profile, frozenset({"PK", "SK", "is_staff", "is_active"}), None)
    assert any(grant.allows(staff_flag) for grant in grants)
    for attributes in (frozenset({"PK", "SK", "email"}), None):
        assert not any(grant.allows(Access("dynamodb:GetItem", "table", profile, attributes, None)) for grant in grants)
    price_change = Access("dynamodb:UpdateItem", "table", "PRODUCT#1", frozenset({"PK", "SK", "price"}), "TransactWriteItems")
    stock_change = Access(
        "dynamodb:UpdateItem", "table", "PRODUCT#1", frozenset({"PK", "SK", "quantity_in_stock"}), "TransactWriteItems"
    )
    outside_a_transaction = Access(
        "dynamodb:UpdateItem", "table", "PRODUCT#1", frozenset({"PK", "SK", "quantity_in_stock"}), None, "NONE"
    )
    old_values = Access(
        # ReturnValuesOnConditionCheckFailure=ALL_OLD would return every attribute of the product
        "dynamodb:UpdateItem",
        "table",
        "PRODUCT#1",
        None,
        "TransactWriteItems",
    )
    assert not any(grant.allows(price_change) for grant in grants)
    assert any(grant.allows(stock_change) for grant in grants)
    # Selling out moves the stock state keys and the count in stock; nothing else of the catalogue.
    sell_out = Access(
        "dynamodb:UpdateItem",
        "table",
        "PRODUCT#1",
        frozenset({"PK", "SK", "quantity_in_stock", "GSI2PK", "GSI3PK"}),
        "TransactWriteItems",
    )
    assert any(grant.allows(sell_out) for grant in grants)
    # GSI2SK is only compared (it carries the price an order was priced at), and may be named.
    for index_key in ("GSI1PK", "GSI3SK"):
        moved = Access("dynamodb:UpdateItem", "table", "PRODUCT#1", frozenset({"PK", "SK", index_key}), "TransactWriteItems")
        assert not any(grant.allows(moved) for grant in grants), index_key
    counted = Access("dynamodb:UpdateItem", "table", "CATALOG", frozenset({"PK", "SK", "in_stock_count"}), "TransactWriteItems")
    assert any(grant.allows(counted) for grant in grants)
    other_counters = [
        Access("dynamodb:UpdateItem", "table", "CATALOG", frozenset({"PK", "SK", name}), "TransactWriteItems")
        for name in ("product_count", "next_id")
    ]
    counted_alone = Access("dynamodb:UpdateItem", "table", "CATALOG", counted.attributes, None, "NONE")
    for denied in (*other_counters, counted_alone):
        assert not any(grant.allows(denied) for grant in grants), denied
    assert not any(grant.allows(outside_a_transaction) for grant in grants)
    assert not any(grant.allows(old_values) for grant in grants)
    account_check = Access(
        "dynamodb:ConditionCheckItem", "table", profile, frozenset({"PK", "SK", "is_active"}), "TransactWriteItems"
    )
    assert any(grant.allows(account_check) for grant in grants)


def test_the_sign_in_function_cannot_write_the_staff_or_active_flags() -> None:
    """Issue 20: staff user management is its own function, so the public sign-in/sign-up
    function's role may not set is_staff on any item by any write, nor is_active except on a new
    account's put (sign-up); the staff users function may, in a transaction only."""
    auth = dynamodb_grants("AuthFunction")
    writes = ("dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")
    for partition in ("USER#1", "USERNAME#someone"):
        for flag in ("is_staff", "is_active"):
            for action in writes:
                for enclosing in ("TransactWriteItems", None):
                    access = Access(action, "table", partition, frozenset({"PK", "SK", flag}), enclosing, "NONE")
                    allowed = any(grant.allows(access) for grant in auth)
                    # Sign-up puts a new account active: the one flag it names, on a put only.
                    assert not allowed or (action == "dynamodb:PutItem" and flag == "is_active"), access
    assert not any("dynamodb:Query" in grant.actions and grant.resource == "table/index/GSI1" for grant in auth)
    staff = dynamodb_grants("StaffUsersFunction")
    for partition, attributes in (
        ("USER#1", {"PK", "SK", "is_staff", "is_active", "username"}),
        ("USERNAME#someone", {"PK", "SK", "is_active", "user_id"}),
    ):
        change = Access("dynamodb:UpdateItem", "table", partition, frozenset(attributes), "TransactWriteItems", "NONE")
        assert any(grant.allows(change) for grant in staff), change
        alone = Access("dynamodb:UpdateItem", "table", partition, frozenset(attributes), None, "NONE")
        assert not any(grant.allows(alone) for grant in staff), alone
    assert not any("dynamodb:PutItem" in grant.actions for grant in staff)


def test_only_functions_that_use_the_signing_key_may_read_it(
    api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    observed = exercise(api, signed_in, monkeypatch)
    for function, (_, reads_key) in observed.items():
        statements = functions()[function].policy_statements
        granted = any(s["Action"] == "secretsmanager:GetSecretValue" for s in statements)
        assert granted == reads_key, function
        if granted:
            assert all(
                s["Resource"] == {"Ref": "JwtSigningSecret"} for s in statements if s["Action"] == "secretsmanager:GetSecretValue"
            )


def statements_of(function: str, prefix: str) -> dict[str, Any]:
    """The function's statements whose actions start with `prefix`, by Sid."""
    return {
        s["Sid"]: s
        for s in functions()[function].policy_statements
        if all(a.startswith(prefix) for a in _as_set(s["Action"]) or ())
    }


def test_the_event_and_webhook_functions_reach_only_their_own_bus_stream_and_queues() -> None:
    resources = load_template()["Resources"]
    events = functions()["EventsFunction"].policy_statements
    assert {str(s["Sid"]) for s in events} == {
        "PublishDomainEvents", "ReadTheTableStream", "ListTheTableStreams", "DeadLetterUnpublishedChanges"
    }  # fmt: skip
    assert statements_of("EventsFunction", "events:")["PublishDomainEvents"]["Resource"] == {"Fn::GetAtt": ["EventBus", "Arn"]}
    stream = statements_of("EventsFunction", "dynamodb:")
    assert stream["ReadTheTableStream"]["Resource"] == {"Fn::GetAtt": ["ShopTable", "StreamArn"]}
    assert stream["ListTheTableStreams"]["Resource"] == {"Fn::Sub": "${ShopTable.Arn}/stream/*"}
    assert statements_of("EventsFunction", "sqs:")["DeadLetterUnpublishedChanges"]["Resource"] == {
        "Fn::GetAtt": ["EventsDeadLetters", "Arn"]
    }
    for function in ("WebhooksFunction", "WebhookSenderFunction"):
        for statement in statements_of(function, "sqs:").values():
            assert statement["Resource"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}, function
    assert statements_of("WebhooksFunction", "sqs:")["QueueRedeliveries"]["Action"] == "sqs:SendMessage"
    assert not statements_of("WebhookSenderFunction", "secretsmanager:")
    for function in ("EventsFunction", "WebhooksFunction", "WebhookSenderFunction"):
        for statement in functions()[function].policy_statements:
            assert statement["Resource"] != "*", (function, statement["Sid"])
    # Secrets: the staff API writes them, only the sender reads them.
    api_reads = [
        g
        for g in dynamodb_grants("WebhooksFunction")
        if g.actions & {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
    ]
    secret_read = Access("dynamodb:GetItem", "table", "WEBHOOKSECRET#wh_x", None)
    assert not any(grant.allows(secret_read) for grant in api_reads)
    rule = resources["WebhookEventsRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["WebhookDeadLetters", "Arn"]}


def test_the_stream_mapping_keeps_order_reports_partial_failures_and_dead_letters() -> None:
    mapping = load_template()["Resources"]["EventsStreamMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ShopTable", "StreamArn"]}
    assert mapping["FunctionName"] == {"Ref": "EventsFunction.Alias"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["EventsDeadLetters", "Arn"]}
    assert 0 < mapping["MaximumRecordAgeInSeconds"] < 24 * 3600  # dead-lettered while the stream still holds it
    table = load_template()["Resources"]["ShopTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    queue = load_template()["Resources"]["WebhookQueueMapping"]["Properties"]
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["FunctionName"] == {"Ref": "WebhookSenderFunction.Alias"}


# --- the SAM CLI ------------------------------------------------------------------------------


def run_sam(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    assert SAM.exists(), "the SAM CLI virtualenv is missing: run `make install`"
    environment = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run([str(SAM), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600, check=False)


def test_sam_validate_lint_passes() -> None:
    result = run_sam("validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_dir = tmp_path_factory.mktemp("sam-build")
    result = run_sam("build", "--build-dir", str(build_dir), "--cache-dir", str(build_dir / ".cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir


def test_sam_build_ships_the_layer_for_arm64_without_boto3(built: Path) -> None:
    layer = built / "CommonLayer" / "python"
    assert (layer / "shop_common" / "tokens.py").is_file()
    (pydantic_core,) = (layer / "pydantic_core").glob("_pydantic_core.cpython-312-*.so")
    assert "aarch64" in pydantic_core.name
    assert not (layer / "boto3").exists()
    assert not (layer / "requirements.txt").exists()


def test_sam_build_precompiles_the_layer_with_bytecode_valid_on_lambda(built: Path) -> None:
    layer = built / "CommonLayer" / "python"
    sources = [path for path in layer.rglob("*.py") if "dist-info" not in str(path)]
    compiled = {path.parent.parent / (path.name.split(".")[0] + ".py") for path in layer.rglob("__pycache__/*.cpython-312.pyc")}
    assert len(sources) > 100
    assert set(sources) <= compiled
    for pyc in [*(layer / "shop_common" / "__pycache__").glob("*.pyc"), *(layer / "pydantic" / "__pycache__").glob("*.pyc")]:
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, pyc  # hash-based and unchecked: valid whatever the zip's timestamps


def test_sam_build_ships_each_function_with_only_its_own_code(built: Path) -> None:
    for spec in functions().values():
        assert {path.name for path in (built / spec.logical_id).iterdir()} == {spec.package}
        shipped = {path.name for path in (built / spec.logical_id / spec.package).glob("*.py")}
        assert shipped == {path.name for path in (spec.code_dir / spec.package).glob("*.py")}
        assert spec.module_file.name in shipped


def test_sam_build_ships_the_docs_page_with_its_assets_and_the_current_document(built: Path) -> None:
    """Swagger UI from the pinned package and docs/openapi.json, gzipped, nothing else: every file
    fits a Lambda response (6 MB, base64) and the whole function stays small."""
    import gzip

    function = built / "DocsFunction"
    assets = {path.name: path.read_bytes() for path in (function / "docs" / "assets").iterdir()}
    assert set(assets) == {"index.html.gz", "docs.js.gz", "swagger-ui-bundle.js.gz", "swagger-ui.css.gz", "openapi.json.gz"}
    assert gzip.decompress(assets["openapi.json.gz"]) == (PROJECT_ROOT / "docs" / "openapi.json").read_bytes()
    assert b"SwaggerUIBundle" in gzip.decompress(assets["swagger-ui-bundle.js.gz"])
    assert all(len(content) * 4 / 3 < 6 * 1024 * 1024 for content in assets.values())
    shipped = sum(path.stat().st_size for path in function.rglob("*") if path.is_file())
    assert shipped < 1024 * 1024, shipped
    assert not (function / "requirements.txt").exists()
    assert not (function / "Makefile").exists()


# --- product photos: the bucket, CloudFront and the grants on them ---------------------------


def test_photo_grants_name_only_the_uploads_prefix_and_only_what_each_function_does() -> None:
    """The staff API signs upload forms (S3 accepts an upload only if the signer may put it) and
    deletes photos; the checker reads and deletes uploads; nobody else touches the bucket."""
    from shop_common.product_images import object_key, photo_file_key

    s3_grants = {
        name: [
            (frozenset(_as_set(s["Action"]) or ()), s["Resource"]) for s in spec.policy_statements if "s3:" in str(s["Action"])
        ]
        for name, spec in functions().items()
    }
    assert {name for name, grants in s3_grants.items() if grants} == {"CatalogAdminFunction", "ImageCheckFunction"}
    (staff_actions, staff_resource), (list_action, bucket_resource) = s3_grants["CatalogAdminFunction"]
    assert staff_actions == {"s3:PutObject", "s3:DeleteObject"}
    assert staff_resource == {"Fn::Sub": "${ImagesBucket.Arn}/products/*"}
    # Listing (a deleted product's files) only under the uploads' prefix.
    assert list_action == {"s3:ListBucket"}
    assert bucket_resource == {"Fn::GetAtt": ["ImagesBucket", "Arn"]}
    (listing,) = [s for s in functions()["CatalogAdminFunction"].policy_statements if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "products/*"}}
    (checker_actions, checker_resource), (write_action, photo_files) = s3_grants["ImageCheckFunction"]
    assert checker_actions == {"s3:GetObject", "s3:DeleteObject"}
    # The checker names the bucket as the bucket names itself (a reference would be a cycle).
    bucket = load_template()["Resources"]["ImagesBucket"]["Properties"]
    name_pattern, variables = bucket["BucketName"]["Fn::Sub"]
    assert checker_resource == {"Fn::Sub": [f"arn:${{AWS::Partition}}:s3:::{name_pattern}/products/*", variables]}
    assert fnmatch.fnmatchcase(object_key(12, "0123456789abcdef"), "products/*")
    # It writes accepted photos' own files, and no upload's key (what a form writes).
    assert write_action == {"s3:PutObject"}
    prefix = f"arn:${{AWS::Partition}}:s3:::{name_pattern}/"
    patterns = [resource["Fn::Sub"][0].removeprefix(prefix) for resource in photo_files]
    assert all(resource["Fn::Sub"][1] == variables for resource in photo_files)
    for content_type in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        photo_file = photo_file_key(12, "0123456789abcdef", "89abcdef", content_type)
        assert [fnmatch.fnmatchcase(photo_file, pattern) for pattern in patterns].count(True) == 1, photo_file
    assert not any(fnmatch.fnmatchcase(object_key(12, "0123456789abcdef"), pattern) for pattern in patterns)
    (event,) = load_template()["Resources"]["ImageCheckFunction"]["Properties"]["Events"].values()
    assert event["Type"] == "S3"
    assert event["Properties"]["Bucket"] == {"Ref": "ImagesBucket"}
    assert event["Properties"]["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "products/"}]


def test_the_images_bucket_is_private_and_served_only_through_cloudfront() -> None:
    resources = load_template()["Resources"]
    bucket = resources["ImagesBucket"]["Properties"]
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    (cors,) = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert cors["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    statements = resources["ImagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert "${ImagesDistribution}" in str(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    distribution = resources["ImagesDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ImagesOriginAccessControl", "Id"]}
    assert distribution["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    for function in ("ProductsFunction", "CatalogAdminFunction"):
        assert functions()[function].environment["IMAGES_BASE_URL"] == {"Fn::Sub": "https://${ImagesDistribution.DomainName}"}
