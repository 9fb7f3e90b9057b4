"""What the JSON-protocol client needs to know of a service: where its requests go, how they
are named and signed, and how many attempts a call gets (tests/layer/aws/test_aws_services.py
checks each value against botocore's models and retry settings)."""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ServiceSpec:
    endpoint_prefix: str
    signing_name: str
    env_name: str  # AWS_ENDPOINT_URL_<env_name>
    target_prefix: str  # X-Amz-Target: <target_prefix>.<operation>
    json_version: str
    trace_name: str  # the name of its calls' X-Ray subsegments, as the X-Ray SDK names them
    # Attempts in all, and the base of the jittered back-off for errors that are not throttles
    # (botocore's standard mode: 25 ms for DynamoDB, 50 ms for other services).
    max_attempts: int = 3
    backoff_scale: float = 0.05
    account_endpoints: bool = False  # botocore prefers account-based endpoints when it knows the account


DYNAMODB: Final = ServiceSpec(
    endpoint_prefix="dynamodb",
    signing_name="dynamodb",
    env_name="DYNAMODB",
    target_prefix="DynamoDB_20120810",
    json_version="1.0",
    trace_name="DynamoDB",
    max_attempts=5,  # the functions' client: botocore's `max_attempts` of 4 retries
    backoff_scale=0.025,
    account_endpoints=True,
)

SECRETS_MANAGER: Final = ServiceSpec(
    endpoint_prefix="secretsmanager",
    signing_name="secretsmanager",
    env_name="SECRETS_MANAGER",
    target_prefix="secretsmanager",
    json_version="1.1",
    trace_name="SecretsManager",
)

EVENTBRIDGE: Final = ServiceSpec(
    endpoint_prefix="events",
    signing_name="events",
    env_name="EVENTBRIDGE",
    target_prefix="AWSEvents",
    json_version="1.1",
    trace_name="EventBridge",
    max_attempts=4,  # the events function's client: botocore's `max_attempts` of 3 retries
)

SQS: Final = ServiceSpec(
    endpoint_prefix="sqs",
    signing_name="sqs",
    env_name="SQS",
    target_prefix="AmazonSQS",
    json_version="1.0",
    trace_name="SQS",
)
