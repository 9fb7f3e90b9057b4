"""template.yaml: what cfn-lint cannot check (routes, runtime, least privilege), and that it
validates and builds with the SAM CLI."""

import fnmatch
import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT, functions, load_template

SAM = PROJECT_ROOT / ".venv-sam" / "bin" / "sam"
CONTRACT_ROUTES = {
    ("POST", "/api/auth"): "AuthFunction",
    ("POST", "/api/refresh"): "AuthFunction",
    ("GET", "/api/products"): "ProductsFunction",
    ("POST", "/api/order"): "OrdersFunction",
    ("GET", "/api/my-orders"): "OrdersFunction",
}


def test_routes_are_exactly_the_contract() -> None:
    routes = {(route.method, route.path): spec.logical_id for spec in functions().values() for route in spec.routes}
    assert routes == CONTRACT_ROUTES


def test_every_handler_exists_in_its_code_folder() -> None:
    for spec in functions().values():
        assert (spec.code_dir / f"{spec.module}.py").is_file()
        module = importlib.import_module(spec.module)
        assert Path(module.__file__ or "").parent == spec.code_dir.resolve()
        assert callable(getattr(module, spec.function_name))


def test_lambda_and_the_local_virtualenv_run_the_same_python() -> None:
    function_globals = load_template()["Globals"]["Function"]
    assert function_globals["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert function_globals["Architectures"] == ["arm64"]
    layer = load_template()["Resources"]["CommonLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == [function_globals["Runtime"]]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"


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


def _accesses(calls: list[Any]) -> set[tuple[str, str, str]]:
    """(IAM action, resource, partition key) for every item-level access the calls made."""
    accesses = set()
    for call in calls:
        params = call.params
        if call.operation == "GetItem":
            accesses.add(("dynamodb:GetItem", "table", params["Key"]["PK"]["S"]))
        elif call.operation == "Query":
            resource = f"table/index/{params['IndexName']}" if "IndexName" in params else "table"
            accesses.add(("dynamodb:Query", resource, _partition_value(call)))
        elif call.operation == "BatchGetItem":
            for request in params["RequestItems"].values():
                accesses |= {("dynamodb:BatchGetItem", "table", key["PK"]["S"]) for key in request["Keys"]}
        elif call.operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, write),) = item.items()
                key = write["Item"] if kind == "Put" else write["Key"]
                action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(kind, "ConditionCheckItem")
                accesses.add((f"dynamodb:{action}", "table", key["PK"]["S"]))
        else:
            accesses.add((f"dynamodb:{call.operation}", "table", "?"))
    return accesses


def _grants(statement: dict[str, Any]) -> tuple[set[str], str, list[str]]:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
    return set(actions), _resource(statement["Resource"]), condition.get("dynamodb:LeadingKeys", ["*"])


def exercise(api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[list[Any], bool]]:
    """Drive every DynamoDB path of every function. Per function: the DynamoDB calls it made,
    and whether it read the signing key."""
    from decimal import Decimal

    import shop_common.tokens
    from accounts import create_user
    from shop_common import secrets as shop_secrets
    from shop_common.catalog import add_products
    from shop_common.dynamo import client
    from shop_common.models import NewProduct
    from shoplocal.dynamodb_calls import CallRecorder

    product, _ = add_products([NewProduct(name=f"P{n}", price=Decimal(1), quantity_in_stock=5) for n in range(2)])
    create_user("iam-user", "pw-iam-check")
    _, headers = signed_in()
    tokens = api.request("POST", "/api/auth", json_body={"username": "iam-user", "password": "pw-iam-check"}).json()
    order = {"parts": [{"product": product.id, "quantity_in_order": 1}]}
    scenarios: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
        "AuthFunction": [
            ("POST", "/api/auth", {"json_body": {"username": "iam-user", "password": "pw-iam-check"}}),
            ("POST", "/api/refresh", {"json_body": {"refresh": tokens["refresh"]}}),
        ],
        "ProductsFunction": [
            ("GET", "/api/products", {"query_string": "limit=5"}),
            ("GET", "/api/products", {"query_string": "page=1&limit=1&cursor=YTA"}),
            ("GET", "/api/products", {"query_string": "page=2&limit=1"}),
        ],
        "OrdersFunction": [
            ("POST", "/api/order", {"json_body": order, "headers": headers}),
            ("GET", "/api/my-orders", {"headers": headers}),
        ],
    }
    key_reads: list[int] = []
    real_key = shop_secrets.jwt_signing_key

    def counting_key() -> bytes:
        key_reads.append(1)
        return real_key()

    monkeypatch.setattr(shop_common.tokens, "jwt_signing_key", counting_key)
    recorder = CallRecorder()
    recorder.attach(client())
    observed = {}
    for function, requests in scenarios.items():
        recorder.clear()
        key_reads.clear()
        for method, path, arguments in requests:
            assert api.request(method, path, **arguments).status < 300
        observed[function] = (list(recorder.calls), bool(key_reads))
    return observed


def test_each_function_is_granted_exactly_the_dynamodb_access_it_uses(
    api: LocalApi, signed_in: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    observed = exercise(api, signed_in, monkeypatch)
    for function, (calls, _) in observed.items():
        grants = [
            _grants(s) for s in functions()[function].policy_statements if str(s["Action"]).startswith(("dynamodb", "['dynamodb"))
        ]
        accesses = _accesses(calls)
        assert accesses, function
        for action, resource, partition in accesses:
            assert any(
                action in actions and resource == granted_resource and any(fnmatch.fnmatchcase(partition, p) for p in patterns)
                for actions, granted_resource, patterns in grants
            ), f"{function} needs {action} on {resource} for {partition} but is not granted it"
        used = {(action, resource) for action, resource, _ in accesses}
        for actions, resource, _ in grants:
            for action in actions:
                assert (action, resource) in used, f"{function} is granted {action} on {resource} but never uses it"


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
        shipped = {path.name for path in (built / spec.logical_id).glob("*.py")}
        assert shipped == {path.name for path in spec.code_dir.glob("*.py")}
        assert f"{spec.module}.py" in shipped
