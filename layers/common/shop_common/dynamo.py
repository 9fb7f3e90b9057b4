"""The DynamoDB client (one per container) and conversions to and from attribute values.

`client()` makes the item and transaction operations the functions make with the lean
JSON-protocol client (`shop_common.aws`: no botocore client to import or create, ~0.1 ms of
CPU a call), with boto3's results and errors; everything else (`create_table`,
`describe_table`, paginators, waiters) is boto3's own client, created on first use. Where the
environment does not decide the endpoint and credentials alone (a profile, a config file), every
operation is boto3's. Either way, a call boto3 serves is logged once and counted
(`shop_common.aws.fallback`). The low-level interface is used rather than the `Table`
resource: it is the one that exposes transactions and cancellation reasons fully.

Conversions take a direct path for the common types and leave the rare ones (bytes, sets) to
boto3's TypeSerializer and TypeDeserializer, imported only then; the results are boto3's
(tests/layer/test_dynamo_client.py compares them).
"""

from collections.abc import Mapping, Sequence
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError  # loaded already: the lean client raises it

from shop_common.aws import AwsJsonClient, fallback, lean_client
from shop_common.aws.json_client import CallObserver
from shop_common.aws.services import DYNAMODB

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

# Timeouts well inside the functions' 10 s, so a stuck connection is retried rather than
# running the invocation out; five attempts in all (`DYNAMODB.max_attempts`, botocore's
# `max_attempts` of 4 retries), backing off on throttling with jitter.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
# boto3's DYNAMODB_CONTEXT: numbers DynamoDB can store exactly, or an error.
DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
_create_decimal = DYNAMODB_CONTEXT.create_decimal
_NOT_DECIDED = "the environment does not decide the endpoint and credentials alone"


class DynamoDB:
    """The container's DynamoDB client: boto3's client interface, the hot operations lean."""

    def __init__(self, lean: AwsJsonClient | None) -> None:
        self.lean = lean

    def _call(self, method: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.lean is None:
            fallback.report("dynamodb", operation, _NOT_DECIDED)
            return cast(dict[str, Any], getattr(self.boto3_client, method)(**params))
        return self.lean.call(operation, params)

    def get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("get_item", "GetItem", params)

    def put_item(self, **params: Any) -> dict[str, Any]:
        return self._call("put_item", "PutItem", params)

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._call("update_item", "UpdateItem", params)

    def delete_item(self, **params: Any) -> dict[str, Any]:
        return self._call("delete_item", "DeleteItem", params)

    def query(self, **params: Any) -> dict[str, Any]:
        return self._call("query", "Query", params)

    def scan(self, **params: Any) -> dict[str, Any]:
        return self._call("scan", "Scan", params)

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        return self._call("batch_get_item", "BatchGetItem", params)

    def batch_write_item(self, **params: Any) -> dict[str, Any]:
        return self._call("batch_write_item", "BatchWriteItem", params)

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        return self._call("transact_write_items", "TransactWriteItems", params)

    def transact_get_items(self, **params: Any) -> dict[str, Any]:
        return self._call("transact_get_items", "TransactGetItems", params)

    @property
    def exceptions(self) -> Any:
        """boto3's error classes, for the operations boto3's client serves (`describe_table`)."""
        return self.boto3_client.exceptions

    @property
    def boto3_client(self) -> Any:
        """boto3's own client (created at first use: importing and creating it costs ~160 ms)."""
        return _boto3_client()

    def add_observer(self, observer: CallObserver) -> None:
        """Let `observer` see every call (tests and benchmarks count calls with it)."""
        if self.lean is not None:
            self.lean.observers.append(observer)
        else:
            observe_boto3_client(self.boto3_client, observer)

    def remove_observer(self, observer: CallObserver) -> None:
        if self.lean is None:
            observe_boto3_client(self.boto3_client, observer, stop=True)
        elif observer in self.lean.observers:
            self.lean.observers.remove(observer)

    def __getattr__(self, name: str) -> Any:
        # The operations the lean client does not make (table administration, paginators,
        # waiters): boto3's, counted. Not `meta`: code that hooks botocore's events (powertools
        # adds its user agent) must not create the client for it.
        if name.startswith("_") or name == "meta":
            raise AttributeError(name)
        attribute = getattr(self.boto3_client, name)
        if callable(attribute):
            fallback.report("dynamodb", name, "an operation the lean client does not make")
        return attribute


def observe_boto3_client(boto3_client: Any, observer: CallObserver, *, stop: bool = False) -> None:
    """Let `observer` see the calls of a boto3 DynamoDB client, through botocore's events (or
    stop): what the lean client's `observers` see of its own calls."""
    events, key = boto3_client.meta.events, f"call-observer-{id(observer)}"
    if stop:
        events.unregister("before-parameter-build.dynamodb", unique_id=f"{key}-before")
        events.unregister("after-call.dynamodb", unique_id=f"{key}-after")
        return

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        observer.before_call(model.name, params)

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        observer.after_call(model.name, parsed)

    events.register("before-parameter-build.dynamodb", before, unique_id=f"{key}-before")
    events.register("after-call.dynamodb", after, unique_id=f"{key}-after")


@cache
def _boto3_client() -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "max_attempts": DYNAMODB.max_attempts - 1},
    )
    return boto3.client("dynamodb", config=config)


@cache
def client() -> "DynamoDBClient":
    """The container's client, created on first use and kept (`forget_client` drops it)."""
    return cast("DynamoDBClient", DynamoDB(lean_client(DYNAMODB, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)))


def forget_client() -> None:
    """Drop the container's clients and their connections (after a SnapStart restore: new
    credentials, dead sockets), so the next call makes new ones."""
    if client.cache_info().currsize:
        lean = cast(DynamoDB, client()).lean
        if lean is not None:
            lean.close()
    client.cache_clear()
    _boto3_client.cache_clear()


def query_page(query: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` items of a Query (its `Limit` is set here) and whether more remain: reads
    limit + 1 items, following `LastEvaluatedKey` only while DynamoDB's 1 MB pages cut them short."""
    query = {**query, "Limit": limit + 1}
    items: list[dict[str, Any]] = []
    while len(items) <= limit:
        response = client().query(**query)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        query["Limit"] = limit + 1 - len(items)
    return items[:limit], len(items) > limit


def set_at_least(table: str, key: Mapping[str, str], attribute: str, value: int) -> None:
    """Raise a number attribute of an item (created if missing) to `value`, unless it is at
    least that already: one conditional UpdateItem. For id counters that must move past ids
    written from elsewhere (an import), and never back."""
    try:
        client().update_item(
            TableName=table,
            Key=to_attributes(key),
            UpdateExpression="SET #counter = :value",
            ConditionExpression="attribute_not_exists(#counter) OR #counter < :value",
            ExpressionAttributeNames={"#counter": attribute},
            ExpressionAttributeValues=to_attributes({":value": value}),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


BATCH_GET_KEYS = 100  # BatchGetItem's limit of keys per call
BATCH_GET_ATTEMPTS = 8


def batch_get(
    keys: "Sequence[Mapping[str, Any]]",
    *,
    consistent: bool = False,
    projection: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The items (attribute values) that exist among `keys` (attribute values) of the table: one
    BatchGetItem per 100 keys, with `projection` (and its `names`) when given. Keys left
    unprocessed (throttled, or past the 16 MB a call returns) are asked for again with backoff,
    8 calls at most per 100 keys, then ServiceBusy (a 503)."""
    import time

    from shop_common import settings
    from shop_common.errors import ServiceBusy

    table = settings.table_name()
    options: dict[str, Any] = {"ConsistentRead": consistent}
    if projection is not None:
        options["ProjectionExpression"] = projection
    if names:
        options["ExpressionAttributeNames"] = dict(names)
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": list(keys[start : start + BATCH_GET_KEYS]), **options}}
        for attempt in range(BATCH_GET_ATTEMPTS):
            response = client().batch_get_item(RequestItems=request)
            found += response.get("Responses", {}).get(table, [])
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                break
            time.sleep(0.02 * 2**attempt)  # throttled: back off before asking for the rest
        else:
            raise ServiceBusy("DynamoDB kept throttling BatchGetItem")
    return found


class TransactionCancelled(ClientError):
    """DynamoDB cancelled a TransactWriteItems: nothing of it was written. `codes` holds each
    item's cancellation code, in the order of the items ("None" for the items that did not
    cause it; "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"...), `reasons`
    the reasons as DynamoDB gives them (with the item where ReturnValuesOnConditionCheckFailure
    asked for it). A ClientError still, with the same response, for code that catches those."""

    def __init__(self, error: ClientError) -> None:
        super().__init__(cast(Any, error.response), error.operation_name)
        self.reasons: list[dict[str, Any]] = [dict(reason) for reason in error.response.get("CancellationReasons", [])]
        self.codes = [str(reason.get("Code", "None")) for reason in self.reasons]

    def condition_failed(self, index: int) -> bool:
        """Whether the item at `index` failed its condition."""
        return index < len(self.codes) and self.codes[index] == "ConditionalCheckFailed"

    @property
    def failed_conditions(self) -> list[int]:
        """The positions of the items that failed their condition."""
        return [index for index, code in enumerate(self.codes) if code == "ConditionalCheckFailed"]


def transact_write(items: "Sequence[TransactWriteItemTypeDef]") -> None:
    """One TransactWriteItems: all of `items` written, or none. A cancellation raises
    TransactionCancelled (with the reason of each item); other errors pass through."""
    try:
        client().transact_write_items(TransactItems=list(items))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
            raise TransactionCancelled(error) from error
        raise


def condition_failed(error: Exception) -> bool:
    """Whether a ClientError is a single write's failed condition (ConditionalCheckFailedException)."""
    response: Any = getattr(error, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def to_attributes(values: Mapping[str, Any]) -> "dict[str, AttributeValueTypeDef]":
    """Python values -> DynamoDB attribute values (ints and Decimals become numbers)."""
    return {name: _serialize(value) for name, value in values.items()}


def from_attributes(item: "Mapping[str, Any]") -> dict[str, Any]:
    """DynamoDB attribute values -> Python values (numbers come back as Decimal)."""
    values = {}
    for name, value in item.items():
        # Strings and numbers inline: they are most attributes, and a call each costs more.
        if type(value) is dict and len(value) == 1:
            if "S" in value:
                values[name] = value["S"]
                continue
            if "N" in value:
                values[name] = _create_decimal(value["N"])
                continue
        values[name] = _deserialize(value)
    return values


def _serialize(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int or kind is Decimal:
        number = str(_create_decimal(value))
        if number in ("Infinity", "NaN"):
            raise TypeError("Infinity and NaN not supported")  # boto3's own check and message
        return {"N": number}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {name: _serialize(item) for name, item in value.items()}}
    if kind is list:
        return {"L": [_serialize(item) for item in value]}
    return _boto3_serializer().serialize(value)  # bytes, sets, subclasses, errors


def _deserialize(value: Any) -> Any:
    if type(value) is dict and len(value) == 1:
        for kind, raw in value.items():
            if kind == "S":
                return raw
            if kind == "N":
                return _create_decimal(raw)
            if kind == "M":
                return {name: _deserialize(item) for name, item in raw.items()}
            if kind == "L":
                return [_deserialize(item) for item in raw]
            if kind == "BOOL":
                return raw
            if kind == "NULL" and raw is True:
                return None
    return _boto3_deserializer().deserialize(value)  # binary, sets, and anything malformed


# boto3's conversions for the rare types, imported (boto3, ~110 ms) only when one comes up.


@cache
def _boto3_serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@cache
def _boto3_deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()
