"""Requests go where botocore sends them: the same URL for every region of the aws, aws-us-gov
and aws-cn partitions (the others are left to botocore), the endpoint variables honoured as
botocore honours them, and botocore itself (lean_endpoint answers None) wherever the environment
does not decide alone."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

from shop_common.aws.endpoints import lean_endpoint
from shop_common.aws.services import DYNAMODB, SECRETS_MANAGER

PARTITIONS = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())["partitions"]
REGIONS = sorted(
    region
    for partition in PARTITIONS
    for region in partition["regions"]
    if not region.endswith("-global")  # names, not regions: never a function's AWS_DEFAULT_REGION
)
SERVICES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "dynamodb": (DYNAMODB, "get_item", {"TableName": "t", "Key": {"PK": {"S": "x"}}}),
    "secretsmanager": (SECRETS_MANAGER, "get_secret_value", {"SecretId": "s"}),
}


class Body:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"


def botocore_url(session: Any, service: str, region: str) -> str:
    """The URL botocore's client sends a request of `service` to, in `region`."""
    _spec, method, params = SERVICES[service]
    client: Any = boto3.session.Session(botocore_session=session, region_name=region).client(service)  # type: ignore[call-overload]
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 200, {}, Body())  # type: ignore[arg-type]

    client.meta.events.register_first("before-send", answer)
    getattr(client, method)(**params)
    return sent[0]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore_stubber, "enabled", False)  # botocore's requests reach `answer`, not moto
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_region_botocore_knows_gets_botocores_url(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SERVICES[service][0]
    session = botocore.session.get_session()
    lean_regions = {
        region
        for partition in PARTITIONS
        if partition["id"] in ("aws", "aws-us-gov", "aws-cn")
        for region in partition["regions"]
    }
    checked = 0
    for region in REGIONS:
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        endpoint = lean_endpoint(spec.endpoint_prefix, spec.env_name, account_endpoints=spec.account_endpoints)
        if region not in lean_regions:  # the isolated partitions: botocore's
            assert endpoint is None, region
            continue
        assert endpoint is not None, region
        assert (f"{endpoint.url}/", endpoint.region) == (botocore_url(session, service, region), region)
        checked += 1
    assert checked >= 40


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:8000"}, "http://127.0.0.1:8000"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "http://dynamo:8000", "AWS_ENDPOINT_URL": "http://other:1"}, "http://dynamo:8000"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, None),
    ],
)
def test_endpoint_variables_are_honoured_as_botocore_honours_them(
    variables: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    endpoint = lean_endpoint("dynamodb", "DYNAMODB")
    assert endpoint is not None
    default = f"https://dynamodb.{endpoint.region}.amazonaws.com"
    assert endpoint.url == (expected or default)
    assert f"{endpoint.url}/" == botocore_url(botocore.session.get_session(), "dynamodb", endpoint.region)


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_USE_FIPS_ENDPOINT": "true"},
        {"AWS_USE_DUALSTACK_ENDPOINT": "TRUE"},
        {"AWS_ACCOUNT_ID": "123456789012"},  # botocore prefers the account's DynamoDB endpoint
        {"HTTPS_PROXY": "http://proxy:3128"},
        {"AWS_DEFAULT_REGION": ""},
        {"AWS_DEFAULT_REGION": "not a region"},
        {"AWS_DEFAULT_REGION": "local"},  # DynamoDB's rules send this to localhost:8000
        {"AWS_ENDPOINT_URL": "ftp://127.0.0.1"},
        {"AWS_ENDPOINT_URL": "http://"},
    ],
)
def test_whatever_the_environment_does_not_decide_alone_is_left_to_botocore(
    variables: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert lean_endpoint("dynamodb", "DYNAMODB", account_endpoints=True) is None


@pytest.mark.usefixtures("clean_environment")
def test_an_account_id_does_not_change_secrets_managers_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    endpoint = lean_endpoint("secretsmanager", "SECRETS_MANAGER")
    assert endpoint is not None
    assert f"{endpoint.url}/" == botocore_url(botocore.session.get_session(), "secretsmanager", endpoint.region)


@pytest.mark.usefixtures("clean_environment")
def test_a_shared_config_file_leaves_the_endpoint_to_botocore(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A profile may set endpoint_url, FIPS or dual-stack endpoints: only botocore reads it."""
    config = tmp_path / "config"
    config.write_text("[default]\nuse_fips_endpoint = true\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert lean_endpoint("dynamodb", "DYNAMODB") is None
    config.write_text("")
    assert lean_endpoint("dynamodb", "DYNAMODB") is not None
