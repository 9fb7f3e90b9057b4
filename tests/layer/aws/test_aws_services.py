"""The JSON-protocol client's knowledge of each service is botocore's: every value of
`shop_common.aws.services` is read here from botocore's service models, so an upgrade of
botocore that changes one fails this test, not the behaviour."""

from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel

from shop_common.aws.services import DYNAMODB, SECRETS_MANAGER, ServiceSpec


def model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


SERVICES = [(DYNAMODB, "dynamodb"), (SECRETS_MANAGER, "secretsmanager")]


@pytest.mark.parametrize(("spec", "name"), SERVICES, ids=["dynamodb", "secretsmanager"])
def test_the_services_protocol_names_and_endpoints_are_botocores(spec: ServiceSpec, name: str) -> None:
    service = model(name)
    assert service.protocol == "json"
    assert spec.json_version == service.metadata["jsonVersion"]
    assert spec.target_prefix == service.metadata["targetPrefix"]
    assert spec.endpoint_prefix == service.endpoint_prefix
    assert spec.signing_name == service.signing_name
    # botocore's variable for a service's endpoint: AWS_ENDPOINT_URL_<service id, upper case, spaces as _>
    assert spec.env_name == service.service_id.upper().replace(" ", "_")


@pytest.mark.parametrize(("spec", "name"), SERVICES, ids=["dynamodb", "secretsmanager"])
def test_each_operations_output_and_errors_are_botocores(spec: ServiceSpec, name: str) -> None:
    service = model(name)
    for operation, known in spec.operations.items():
        op = service.operation_model(operation)
        output = op.output_shape
        assert output is not None
        assert known.output_members == tuple(output.members), operation
        # Members are read by their model names: none is renamed on the wire.
        assert not any("name" in shape.serialization for shape in output.members.values()), operation
        assert known.blob_members == {name for name, shape in output.members.items() if shape.type_name == "blob"}
        assert known.timestamp_members == {name for name, shape in output.members.items() if shape.type_name == "timestamp"}
        assert known.errors == {shape.name for shape in op.error_shapes}, operation
        assert not any(shape.metadata.get("error", {}).get("code") for shape in op.error_shapes)  # codes are shape names
        retryable = {shape.name: shape.metadata["retryable"] for shape in op.error_shapes if "retryable" in shape.metadata}
        assert known.retryable_errors == set(retryable), operation
        assert not any(trait.get("throttling") for trait in retryable.values())  # `retries` treats them as transient


@pytest.mark.parametrize(("spec", "name"), SERVICES, ids=["dynamodb", "secretsmanager"])
def test_each_error_shapes_members_are_botocores_in_its_order(spec: ServiceSpec, name: str) -> None:
    service = model(name)
    errors: dict[str, Any] = {}
    for operation in service.operation_names:
        shape: Any
        for shape in service.operation_model(operation).error_shapes:
            errors[shape.name] = tuple(shape.members)
            assert not any("name" in member.serialization for member in shape.members.values())
    assert dict(spec.error_members) == errors


def test_the_retry_settings_are_botocores_for_dynamodb() -> None:
    from botocore.retries import standard

    backoff = vars(standard.ExponentialBackoff)
    assert DYNAMODB.max_attempts == 5  # the functions' Config: max_attempts=4 retries
    assert DYNAMODB.backoff_scale == backoff["_SERVICE_BACKOFF_CONFIG"]["dynamodb"]["non_throttling_base_scale"]
    assert SECRETS_MANAGER.backoff_scale == backoff["_DEFAULT_BACKOFF_CONFIG"]["non_throttling_base_scale"]
    assert SECRETS_MANAGER.max_attempts == standard.DEFAULT_MAX_ATTEMPTS
    assert DYNAMODB.checks_crc32
    assert not SECRETS_MANAGER.checks_crc32
