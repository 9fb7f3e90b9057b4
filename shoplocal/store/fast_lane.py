"""The hot reads (GetItem, BatchGetItem, Query) answered from the compact storage before moto's
request dispatch.

A products page is a Query and a BatchGetItem; a signed-in request starts with a GetItem. Through
moto, each call went through its host-based dispatcher, a Flask application, its generic request
set-up (which lists the handler's methods by reflection every time), an item object per stored
item and per projection, and a serialiser: about 9 ms of the store's CPU per products page, the
whole server's bottleneck under load. Here a read whose every part is plain is answered from the
stored JSON by these functions, under the store's lock, in moto's words: moto's own parsers read
its key condition and projection, and the sorted partitions (`partition_index`) give the page
as moto's Query gives it. Anything else (a filter, a projection into a list, a consumed-capacity
report, a key of another type, a table or index that does not exist, a malformed request: every
case where moto answers an error) is left to moto, which answers it as before. Tests send the
same random reads both ways and compare the answers.
"""

import functools
import io
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from typing import Any

import orjson

from shoplocal.store import compact_items, partition_index
from shoplocal.store.moto_atomic import store_lock

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
BATCH_GET_BYTES = 16 * 1024 * 1024  # BatchGetItem's answer limit, as moto counts it
MAX_BATCH_KEYS = 100
_NO_CAPACITY = (None, "NONE")

Backend = Any  # moto's DynamoDBBackend
Answer = tuple[bytes, list[tuple[str, str]]]  # body, headers
Paths = tuple[tuple[str, ...], ...]  # a projection: paths of map keys from a top-level name


class _MotoPath(Exception):
    """This request is moto's own to answer."""


def answer(backend: Backend, target: str, body: bytes) -> Answer | None:
    """The answer to a DynamoDB request (its `X-Amz-Target` and body), or None for moto to give."""
    if not target.startswith(TARGET_PREFIX):
        return None
    read = _READS.get(target[len(TARGET_PREFIX) :])
    if read is None:
        return None
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict):
        return None
    with store_lock():
        # Items a test changed on the backend directly are settled first, as moto's path does.
        compact_items.settle_all(changed=True)
        try:
            result = read(backend, request)
        except (_MotoPath, partition_index.Unsupported, KeyError, TypeError, ValueError, AttributeError):
            return None
    return result, _headers(result)


def _headers(body: bytes) -> list[tuple[str, str]]:
    # DynamoDB's answers carry a CRC32 of the body, which botocore checks.
    return [
        ("Content-Type", CONTENT_TYPE),
        ("x-amzn-RequestId", uuid.uuid4().hex),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]


# --- the request's parts, read as moto reads them, or refused to moto ---------------------------


def _only(request: Mapping[str, Any], allowed: frozenset[str]) -> None:
    if not request.keys() <= allowed or request.get("ReturnConsumedCapacity") not in _NO_CAPACITY:
        raise _MotoPath


def _table(backend: Backend, name: Any) -> tuple[Any, compact_items.CompactItems]:
    table = backend.tables.get(name) if isinstance(name, str) else None
    compact = compact_items.of(table) if table is not None else None
    if compact is None:
        raise _MotoPath
    return table, compact


def _cast(value: Any, kind: str) -> Any:
    """A key attribute's value as moto casts it (a number as Decimal), if it has the key's type."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _MotoPath
    ((given_kind, inner),) = value.items()
    if given_kind != kind or kind not in ("S", "N") or not isinstance(inner, str) or not inner:
        raise _MotoPath
    if kind == "S":
        return inner
    try:
        number = Decimal(inner)
    except InvalidOperation as error:
        raise _MotoPath from error
    if not number.is_finite():
        raise _MotoPath
    return number


def _key(compact: compact_items.CompactItems, key: Any) -> Any:
    """The storage key of a request's `Key`: exactly the table's key attributes, typed as defined."""
    names = (compact.hash_attr, compact.range_attr) if compact.range_attr else (compact.hash_attr,)
    if not isinstance(key, dict) or len(key) != len(names) or any(name not in key for name in names):
        raise _MotoPath
    hash_value = _cast(key[compact.hash_attr], compact.hash_type)
    range_value = _cast(key[compact.range_attr], compact.range_type or "") if compact.range_attr else None
    return compact.key_of(hash_value, range_value)


@functools.lru_cache(maxsize=256)
def _projection(expression: str | None, names: tuple[tuple[str, str], ...] | None) -> Paths | None:
    """The paths a GetItem's or a BatchGetItem's projection picks (None: everything)."""
    return _picked_names(expression, dict(names or ()), [])


def _map_paths(paths: list[list[str]]) -> Paths:
    """Paths through maps only, none inside another; moto answers list elements and overlaps."""
    found = tuple(tuple(path) for path in paths)
    if not found or any(not path or any(part.endswith("]") for part in path) for path in found):
        raise _MotoPath
    for position, path in enumerate(found):
        if any(other[: len(path)] == path for number, other in enumerate(found) if number != position):
            raise _MotoPath
    return found


def _project(attributes: dict[str, Any], paths: Paths) -> dict[str, Any]:
    """What the paths pick of an item (DynamoDB JSON); a path that is not there picks nothing."""
    picked: dict[str, Any] = {}
    for path in paths:
        value = attributes.get(path[0])
        for part in path[1:]:
            members = value.get("M") if isinstance(value, dict) else None
            value = members.get(part) if isinstance(members, dict) else None
        if value is None:
            continue
        if len(path) == 1:
            picked[path[0]] = value
            continue
        container = picked.setdefault(path[0], {"M": {}})
        for part in path[1:-1]:
            container = container["M"].setdefault(part, {"M": {}})
        container["M"][path[-1]] = value
    return picked


def _projection_of(request: Mapping[str, Any]) -> Paths | None:
    expression = request.get("ProjectionExpression")
    names = request.get("ExpressionAttributeNames")
    if (expression is not None and not isinstance(expression, str)) or expression == "":
        raise _MotoPath
    if names is not None and (not isinstance(names, dict) or not names):
        raise _MotoPath
    try:
        return _projection(expression, tuple(sorted(names.items())) if names is not None else None)
    except _MotoPath:
        raise
    except Exception as error:  # moto's parser refused it: moto answers the error
        raise _MotoPath from error


def _picked(stored: bytes, paths: Paths | None) -> bytes:
    if paths is None:
        return stored
    return orjson.dumps(_project(orjson.loads(stored), paths))


def _listed(table_name: str, key: Any, stored: bytes, paths: Paths | None) -> bytes:
    """`_picked`, kept for the next read: the items of listings (BatchGetItem), read again and again."""
    if paths is None:
        return stored
    return _projections.picked((table_name, key, paths), stored, paths)


class _Projections:
    """The projections of the items read last, each kept with the stored JSON it came from.

    The first page of a listing is read again and again, and parsing and re-encoding each of its
    50 products was a fifth of the store's time on a products page. An entry answers only for the
    very bytes it was computed from (bytes never change: a write stores new ones), and an item's
    new projection replaces its old one, so items written often do not pile up. Single reads
    (GetItem: sessions, profiles) are not kept: each key is read a few times. Bounded (first in,
    first out): about 2 KB per entry, 4 MB at most.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: dict[Any, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()  # readers run concurrently; a dict read needs no lock

    def picked(self, where: Any, stored: bytes, paths: Paths) -> bytes:
        kept = self._kept.get(where)
        if kept is not None and kept[0] is stored:
            return kept[1]
        projected = _picked(stored, paths)
        with self._lock:
            if where not in self._kept and len(self._kept) >= self._size:
                del self._kept[next(iter(self._kept))]
            self._kept[where] = (stored, projected)
        return projected

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


_projections = _Projections(2048)


def _stored(compact: compact_items.CompactItems, key: Any) -> bytes | None:
    stored = compact.data.get(key)
    if stored is not None and type(stored) is not bytes:
        raise _MotoPath  # an item built by a request in flight: never outside one, but moto knows
    return stored


# --- the reads ------------------------------------------------------------------------------------

_GET_ITEM = frozenset(
    {"TableName", "Key", "ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames", "ReturnConsumedCapacity"}
)


def _get_item(backend: Backend, request: dict[str, Any]) -> bytes:
    _only(request, _GET_ITEM)
    if request.get("ConsistentRead") not in (None, True, False):
        raise _MotoPath
    _, compact = _table(backend, request.get("TableName"))
    key = _key(compact, request.get("Key"))
    names = _projection_of(request)
    stored = _stored(compact, key)
    if stored is None:
        return b"{}"
    return b'{"Item":' + _picked(stored, names) + b"}"


_BATCH_GET = frozenset({"RequestItems", "ReturnConsumedCapacity"})
_BATCH_TABLE = frozenset({"Keys", "ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames"})


def _batch_get_item(backend: Backend, request: dict[str, Any]) -> bytes:
    _only(request, _BATCH_GET)
    tables = request.get("RequestItems")
    if not isinstance(tables, dict) or not tables:
        raise _MotoPath
    answers: list[bytes] = []
    capacity: list[dict[str, Any]] = []  # moto's, whatever ReturnConsumedCapacity says
    size = 0
    total_keys = 0
    for table_name, table_request in tables.items():
        if not isinstance(table_request, dict) or not table_request.keys() <= _BATCH_TABLE:
            raise _MotoPath
        if table_request.get("ConsistentRead") not in (None, True, False):
            raise _MotoPath
        keys = table_request.get("Keys")
        if not isinstance(keys, list) or not keys:
            raise _MotoPath
        total_keys += len(keys)
        if total_keys > MAX_BATCH_KEYS:
            raise _MotoPath
        _, compact = _table(backend, table_name)
        names = _projection_of(table_request)
        storage_keys = [_key(compact, key) for key in keys]
        if len(set(storage_keys)) != len(storage_keys):
            raise _MotoPath  # duplicates: moto's error
        found = [(key, stored) for key in storage_keys if (stored := _stored(compact, key)) is not None]
        # The stored JSON is never shorter than moto's count of an item's size: only near the
        # limit (where moto would leave keys unprocessed) does moto's own path count exactly.
        size += sum(len(stored) for _, stored in found)
        if size > BATCH_GET_BYTES:
            raise _MotoPath
        answers.append(
            orjson.dumps(table_name) + b":[" + b",".join(_listed(table_name, key, stored, names) for key, stored in found) + b"]"
        )
        capacity.append({"CapacityUnits": len(keys), "TableName": table_name})
    return b'{"ConsumedCapacity":' + orjson.dumps(capacity) + b',"Responses":{' + b",".join(answers) + b'},"UnprocessedKeys":{}}'


_QUERY = frozenset(
    {
        "TableName",
        "IndexName",
        "KeyConditionExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "Limit",
        "ExclusiveStartKey",
        "ScanIndexForward",
        "ConsistentRead",
        "ReturnConsumedCapacity",
        "ProjectionExpression",
    }
)


def _query(backend: Backend, request: dict[str, Any]) -> bytes:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.parsing.key_condition_expression import parse_expression

    _only(request, _QUERY)
    expression = request.get("KeyConditionExpression")
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    if not isinstance(expression, str) or not expression or not isinstance(names, dict) or not isinstance(values, dict):
        raise _MotoPath
    if not values or any(not name.startswith(":") or not isinstance(value, dict) for name, value in values.items()):
        raise _MotoPath
    if "IndexName" in request and not isinstance(request["IndexName"], str):
        raise _MotoPath
    if not isinstance(request.get("ScanIndexForward", True), bool) or not isinstance(request.get("ConsistentRead", False), bool):
        raise _MotoPath
    limit = request.get("Limit")
    if limit is not None and (type(limit) is not int or limit < 1):
        raise _MotoPath
    start = request.get("ExclusiveStartKey")
    if start is not None and not isinstance(start, dict):
        raise _MotoPath
    table_name, index_name = request.get("TableName"), request.get("IndexName")
    table, _ = _table(backend, table_name)
    projection = request.get("ProjectionExpression")
    if projection is not None and (not isinstance(projection, str) or not projection):
        raise _MotoPath
    try:
        schema = backend.get_schema(table_name=table_name, index_name=index_name)
        hash_conditions, range_conditions, names_used = parse_expression(
            key_condition_expression=expression,
            expression_attribute_values=values,
            expression_attribute_names=names,
            schema=schema,
        )
        picked = _picked_names(projection, names, names_used)
    except _MotoPath:
        raise
    except Exception as error:  # moto's parser refused it: moto answers the error
        raise _MotoPath from error
    range_comparison, range_values = (range_conditions[-1][1], range_conditions[-1][2]) if range_conditions else (None, [])
    page = partition_index.query_page(
        table,
        index_name,
        {
            "range_comparison": range_comparison,
            "range_objs": [DynamoType(value) for value in range_values],
            "limit": limit,
            "exclusive_start_key": start,
            "scan_index_forward": request.get("ScanIndexForward", True),
            "projection_expressions": None,
            "consistent_read": request.get("ConsistentRead", False),
            "filter_expression": None,
            "hash_key_conditions": [(name, DynamoType(value)) for name, value in hash_conditions],
            "range_key_conditions": [
                (name, comparison, [DynamoType(value) for value in operands]) for name, comparison, operands in range_conditions
            ],
            "filter_kwargs": {},
        },
        keys_from_index=True,  # the lock is held and items changed outside a request settled
    )
    items = page.items if picked is None else [_project(item, picked) for item in page.items]
    result: dict[str, Any] = {"Count": len(items), "ScannedCount": len(items), "Items": items}
    if page.more:  # of the item before the projection, as moto reads it
        result["LastEvaluatedKey"] = partition_index.last_evaluated_key(table, index_name, page.items[-1])
    return orjson.dumps(result)


def _picked_names(projection: str | None, names: dict[str, str], names_used: list[str]) -> Paths | None:
    """The paths a projection picks (None: everything), by moto's parser, with every name used
    (by the projection or, for a Query, by its key condition); names unused are moto's error."""
    from moto.dynamodb.responses import ProjectionExpressionParser, validate_attributes_used

    if projection is None:
        validate_attributes_used(names, names_used, validation_error_prefix=False)
        return None
    parser = ProjectionExpressionParser(projection, names)
    paths = parser.parse()
    validate_attributes_used(names, names_used + parser.expr_attr_names_found, validation_error_prefix=False)
    return _map_paths(paths)


_READS: dict[str, Callable[[Backend, dict[str, Any]], bytes]] = {
    "GetItem": _get_item,
    "BatchGetItem": _batch_get_item,
    "Query": _query,
}


WsgiApplication = Callable[[dict[str, Any], Callable[..., Any]], Any]


def wrap(application: WsgiApplication, backend: Callable[[], Backend]) -> WsgiApplication:
    """The store's WSGI application with the fast lane in front of it, and DynamoDB's other
    requests handed to moto's DynamoDB handler directly (not through moto's host-based routing
    and Flask application, which cost more than many a write)."""

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        if (
            not target.startswith(TARGET_PREFIX)
            or environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") != "/"
            or environ.get("HTTP_CONTENT_ENCODING")
        ):
            return application(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        found = answer(backend(), target, body)
        if found is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return _moto_dynamodb(environ, start_response)
        content, headers = found
        start_response("200 OK", headers)
        return [content]

    return serve


def _moto_dynamodb(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """What moto's server answers a DynamoDB request (`convert_to_flask_response` around
    `DynamoHandler.dispatch`), without its routing."""
    from botocore.exceptions import ClientError
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest

    request = BackendRequest(environ)
    recorder._record_request(request)
    try:
        result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as error:
        result = 400, {}, error.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    body = content.encode() if isinstance(content, str) else bytes(content)
    pairs = [(str(name), str(value)) for name, value in headers.items()]
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("Content-Type", "text/html; charset=utf-8"))  # Flask's default
    start_response(f"{int(status)} {HTTPStatus(int(status)).phrase}", pairs)
    return [body]
