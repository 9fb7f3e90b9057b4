"""What the JSON-protocol client needs to know of each service and operation, taken from
botocore's service models (tests/layer/aws/test_aws_services.py checks every value against them, so
a botocore upgrade that changes one fails the tests rather than the behaviour).

The client sends the parameters as they are and reads the response as JSON, so of a model it
needs only: the members each output keeps (botocore drops others) and which of them are blobs
or timestamps; each service's error shapes and their members (botocore merges an error's
modeled members into the error response); each operation's errors (a 429 is a throttle unless
it is one of them) and those marked retryable.
"""

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class OperationSpec:
    output_members: tuple[str, ...]  # in the model's order, which botocore's parse keeps
    errors: frozenset[str]  # codes of its modeled errors
    retryable_errors: frozenset[str] = frozenset()  # modeled as retryable, not as throttles
    blob_members: frozenset[str] = frozenset()  # top-level outputs that are base64 blobs
    timestamp_members: frozenset[str] = frozenset()  # top-level outputs that are timestamps (epoch seconds)


@dataclass(frozen=True)
class ServiceSpec:
    endpoint_prefix: str
    signing_name: str
    env_name: str  # AWS_ENDPOINT_URL_<env_name>
    target_prefix: str
    json_version: str
    operations: MappingProxyType[str, OperationSpec]
    error_members: MappingProxyType[str, tuple[str, ...]]  # error shape -> its members, in the model's order
    # Standard retry mode: attempts in all, and the base of the back-off for errors that are
    # not throttles (botocore: 25 ms for DynamoDB, 50 ms for other services).
    max_attempts: int = 3
    backoff_scale: float = 0.05
    checks_crc32: bool = False  # DynamoDB sends x-amz-crc32; a mismatch is retried
    account_endpoints: bool = False  # DynamoDB: botocore prefers account-based endpoints when it knows the account


_READ_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ResourceNotFoundException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ThrottlingException",
    }
)
_WRITE_ERRORS = _READ_ERRORS | {
    "ConditionalCheckFailedException",
    "ItemCollectionSizeLimitExceededException",
    "TransactionConflictException",
    "ReplicatedWriteConflictException",
}
_ITEM_OUTPUT = ("Attributes", "ConsumedCapacity", "ItemCollectionMetrics")
_PAGE_OUTPUT = ("Items", "Count", "ScannedCount", "LastEvaluatedKey", "ConsumedCapacity")
_REPLICATED = frozenset({"ReplicatedWriteConflictException"})

_MESSAGE = ("message",)
_DYNAMODB_ERRORS = {
    name: _MESSAGE
    for name in (
        "BackupInUseException",
        "BackupNotFoundException",
        "ContinuousBackupsUnavailableException",
        "DuplicateItemException",
        "ExportConflictException",
        "ExportNotFoundException",
        "GlobalTableAlreadyExistsException",
        "GlobalTableNotFoundException",
        "ImportConflictException",
        "ImportNotFoundException",
        "IndexNotFoundException",
        "InternalServerError",
        "InvalidExportTimeException",
        "InvalidRestoreTimeException",
        "ItemCollectionSizeLimitExceededException",
        "LimitExceededException",
        "PointInTimeRecoveryUnavailableException",
        "PolicyNotFoundException",
        "ReplicaAlreadyExistsException",
        "ReplicaNotFoundException",
        "ReplicatedWriteConflictException",
        "ResourceInUseException",
        "ResourceNotFoundException",
        "TableAlreadyExistsException",
        "TableInUseException",
        "TableNotFoundException",
        "TransactionConflictException",
    )
} | {
    "ConditionalCheckFailedException": ("message", "Item"),
    "IdempotentParameterMismatchException": ("Message",),
    "ProvisionedThroughputExceededException": ("message", "ThrottlingReasons"),
    "RequestLimitExceeded": ("message", "ThrottlingReasons"),
    "ThrottlingException": ("message", "throttlingReasons"),
    "TransactionCanceledException": ("Message", "CancellationReasons"),
    "TransactionInProgressException": ("Message",),
}

DYNAMODB: Final = ServiceSpec(
    endpoint_prefix="dynamodb",
    signing_name="dynamodb",
    env_name="DYNAMODB",
    target_prefix="DynamoDB_20120810",
    json_version="1.0",
    operations=MappingProxyType(
        {
            "GetItem": OperationSpec(("Item", "ConsumedCapacity"), _READ_ERRORS),
            "PutItem": OperationSpec(_ITEM_OUTPUT, _WRITE_ERRORS, _REPLICATED),
            "UpdateItem": OperationSpec(_ITEM_OUTPUT, _WRITE_ERRORS, _REPLICATED),
            "DeleteItem": OperationSpec(_ITEM_OUTPUT, _WRITE_ERRORS, _REPLICATED),
            "Query": OperationSpec(_PAGE_OUTPUT, _READ_ERRORS),
            "Scan": OperationSpec(_PAGE_OUTPUT, _READ_ERRORS),
            "BatchGetItem": OperationSpec(("Responses", "UnprocessedKeys", "ConsumedCapacity"), _READ_ERRORS),
            "BatchWriteItem": OperationSpec(
                ("UnprocessedItems", "ItemCollectionMetrics", "ConsumedCapacity"),
                _READ_ERRORS | {"ItemCollectionSizeLimitExceededException", "ReplicatedWriteConflictException"},
                _REPLICATED,
            ),
            "TransactWriteItems": OperationSpec(
                ("ConsumedCapacity", "ItemCollectionMetrics"),
                _READ_ERRORS
                | {"TransactionCanceledException", "TransactionInProgressException", "IdempotentParameterMismatchException"},
            ),
            "TransactGetItems": OperationSpec(("ConsumedCapacity", "Responses"), _READ_ERRORS | {"TransactionCanceledException"}),
        }
    ),
    error_members=MappingProxyType(_DYNAMODB_ERRORS),
    max_attempts=5,  # the functions' client: botocore's `max_attempts` of 4 retries
    backoff_scale=0.025,
    checks_crc32=True,
    account_endpoints=True,
)

SECRETS_MANAGER: Final = ServiceSpec(
    endpoint_prefix="secretsmanager",
    signing_name="secretsmanager",
    env_name="SECRETS_MANAGER",
    target_prefix="secretsmanager",
    json_version="1.1",
    operations=MappingProxyType(
        {
            "GetSecretValue": OperationSpec(
                ("ARN", "Name", "VersionId", "SecretBinary", "SecretString", "VersionStages", "CreatedDate"),
                frozenset(
                    {
                        "ResourceNotFoundException",
                        "InvalidParameterException",
                        "InvalidRequestException",
                        "DecryptionFailure",
                        "InternalServiceError",
                    }
                ),
                blob_members=frozenset({"SecretBinary"}),
                timestamp_members=frozenset({"CreatedDate"}),
            )
        }
    ),
    error_members=MappingProxyType(
        {
            name: ("Message",)
            for name in (
                "DecryptionFailure",
                "EncryptionFailure",
                "InternalServiceError",
                "InvalidNextTokenException",
                "InvalidParameterException",
                "InvalidRequestException",
                "LimitExceededException",
                "MalformedPolicyDocumentException",
                "PreconditionNotMetException",
                "PublicPolicyException",
                "ResourceExistsException",
                "ResourceNotFoundException",
            )
        }
    ),
)
