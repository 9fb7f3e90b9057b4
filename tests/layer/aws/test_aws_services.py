"""The JSON-protocol client's knowledge of each service is botocore's: every value of
`shop_common.aws.services` is read here from botocore's service models and retry settings, so an
upgrade of botocore that changes one fails this test, not the behaviour."""

from typing import Any

import botocore.session
import pytest
from botocore.model import ServiceModel

from shop_common.aws.services import DYNAMODB, EVENTBRIDGE, SECRETS_MANAGER, SQS, ServiceSpec


def model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


SERVICES = [(DYNAMODB, "dynamodb"), (SECRETS_MANAGER, "secretsmanager"), (EVENTBRIDGE, "events"), (SQS, "sqs")]


@pytest.mark.parametrize(("spec", "name"), SERVICES, ids=["dynamodb", "secretsmanager", "events", "sqs"])
def test_the_services_protocol_names_and_endpoints_are_botocores(spec: ServiceSpec, name: str) -> None:
    service = model(name)
    assert service.protocol == "json"
    assert spec.json_version == service.metadata["jsonVersion"]
    assert spec.target_prefix == service.metadata["targetPrefix"]
    assert spec.endpoint_prefix == service.endpoint_prefix
    assert spec.signing_name == service.signing_name
    # botocore's variable for a service's endpoint: AWS_ENDPOINT_URL_<service id, upper case, spaces as _>
    assert spec.env_name == service.service_id.upper().replace(" ", "_")
    assert spec.trace_name == service.service_id.replace(" ", "")


def test_the_retry_settings_are_botocores_for_dynamodb() -> None:
    from botocore.retries import standard

    backoff = vars(standard.ExponentialBackoff)
    assert DYNAMODB.max_attempts == 5  # the functions' Config: max_attempts=4 retries
    assert DYNAMODB.backoff_scale == backoff["_SERVICE_BACKOFF_CONFIG"]["dynamodb"]["non_throttling_base_scale"]
    assert SECRETS_MANAGER.backoff_scale == backoff["_DEFAULT_BACKOFF_CONFIG"]["non_throttling_base_scale"]
    assert SECRETS_MANAGER.max_attempts == standard.DEFAULT_MAX_ATTEMPTS
    assert SQS.max_attempts == standard.DEFAULT_MAX_ATTEMPTS  # the local queue poller's client: botocore's defaults
    assert EVENTBRIDGE.max_attempts == 4  # the events function's Config: max_attempts=3 retries
    assert EVENTBRIDGE.backoff_scale == SQS.backoff_scale == backoff["_DEFAULT_BACKOFF_CONFIG"]["non_throttling_base_scale"]
    assert backoff["_DEFAULT_BACKOFF_CONFIG"]["throttling_base_scale"] == 1  # json_client.THROTTLING_SCALE


def test_the_throttling_codes_are_among_botocores() -> None:
    from botocore.retries import standard

    from shop_common.aws.json_client import THROTTLING_CODES

    checker: Any = standard.ThrottledRetryableChecker
    assert set(checker._THROTTLED_ERROR_CODES) >= THROTTLING_CODES
