"""Sorted partitions for moto's Query, so a Query costs what it reads, as on DynamoDB.

moto answers a Query by sorting every item of the table and walking them all (on a secondary
index, comparing each item's attributes): a page of 50 products cost ~20 ms at 200 products and
grew with every order written. Here each key space (the table itself and each secondary index
with a hash and a range key) keeps, per partition, a sorted list of its items' keys, built on
the first Query and updated after every write request, under the store's lock, for exactly the
keys the request names. A Query then finds its range by bisection and reads only its items.

The answer is moto's own, step for step: the same order (index range key, then the table's
keys), `ExclusiveStartKey`, `Limit`, the 1 MB page, `ScannedCount`, `LastEvaluatedKey` (when a
page ends on `Limit` with more items in the partition, as moto answers), projections and filters.
Queries outside that shape (legacy `QueryFilter`, indexes without a range key, key types mixed
within a partition, ...) go to moto's own Query. Tests compare both on random workloads.
"""

import bisect
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shoplocal.store.write_requests import READ_ACTIONS, named_items

# moto's page limit (its RESULT_SIZE_LIMIT) and its item size limit (LimitedSizeDict).
PAGE_BYTES = 1_000_000
MAX_ITEM_BYTES = 410_000

# Requests after which no index needs a change: reads, and table creation and deletion (a new
# table object starts without indexes; a deleted one takes its indexes with it). Writes that name
# their keys re-index those keys; any other request (PartiQL, restores, imports, index changes)
# makes the backend's indexes be rebuilt.
_NO_REINDEX = READ_ACTIONS | {"CreateTable", "DeleteTable"}
_ATTRIBUTE = "_shop_partition_indexes"
_BASE_TABLE = ""


class _Unsupported(Exception):
    """A Query this index does not answer; moto's own Query does."""


@dataclass
class _ItemRef:
    """Where an indexed item lives in `table.items`; never compared (keys are unique before it)."""

    hash_key: Any
    range_key: Any

    def __lt__(self, other: "_ItemRef") -> bool:
        raise _Unsupported("duplicate key in an index")


Entry = tuple[Any, Any, Any, _ItemRef]  # (range key, table hash key, table range key, where)


@dataclass
class KeySpace:
    """The sorted partitions of one key space: the table itself or one secondary index."""

    hash_attr: str
    range_attr: str
    partitions: dict[tuple[str, Any], list[Entry]] = field(default_factory=dict)
    located: dict[tuple[Any, ...], tuple[tuple[str, Any], Entry]] = field(default_factory=dict)

    def entry_for(self, item: Any) -> tuple[tuple[str, Any], Entry] | None:
        hash_value, range_value = item.attrs.get(self.hash_attr), item.attrs.get(self.range_attr)
        if not hash_value or not range_value:  # not in the index (sparse), as moto's walk decides
            return None
        if hash_value.type not in ("S", "N") or range_value.type not in ("S", "N"):
            raise _Unsupported("binary keys")
        ref = _ItemRef(item.hash_key, item.range_key)
        entry = (range_value.cast_value, item.hash_key.cast_value, item.range_key.cast_value, ref)
        return (hash_value.type, hash_value.cast_value), entry

    def remove(self, table_key: tuple[Any, ...]) -> None:
        found = self.located.pop(table_key, None)
        if found is None:
            return
        partition_key, entry = found
        entries = self.partitions[partition_key]
        del entries[bisect.bisect_left(entries, entry[:3])]
        if not entries:
            del self.partitions[partition_key]

    def add(self, item: Any, *, in_order: bool = True) -> None:
        """Index the item; with `in_order=False` (a build) the caller sorts the partitions after."""
        found = self.entry_for(item)
        if found is None:
            return
        partition_key, entry = found
        entries = self.partitions.setdefault(partition_key, [])
        if entries and type(entries[0][0]) is not type(entry[0]):
            raise _Unsupported("key types mixed within a partition")
        if in_order:
            bisect.insort(entries, entry)
        else:
            entries.append(entry)
        self.located[_table_key(item.hash_key, item.range_key)] = found

    def sort(self) -> None:
        for entries in self.partitions.values():
            entries.sort()


def _table_key(hash_key: Any, range_key: Any) -> tuple[Any, ...]:
    return (hash_key.type, hash_key.cast_value, range_key.type, range_key.cast_value)


def _key_spaces(table: Any) -> dict[str, KeySpace] | None:
    """The table's key spaces, built on first use; None when the table cannot be indexed."""
    spaces: dict[str, KeySpace] | None = table.__dict__.get(_ATTRIBUTE)
    if spaces is not None:
        return spaces
    if not table.range_key_attr:
        return None
    spaces = {_BASE_TABLE: KeySpace(table.hash_key_attr, table.range_key_attr)}
    for index in table.all_indexes():
        hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
        if len(hashes) == 1 and len(ranges) == 1:
            spaces[index.name] = KeySpace(hashes[0], ranges[0])
    try:
        for partition in table.items.values():
            for item in partition.values():
                for space in spaces.values():
                    space.add(item, in_order=False)
        for space in spaces.values():
            space.sort()
    except (_Unsupported, TypeError):
        spaces = {}  # moto's walk answers; the build is tried again after the table's next write
    table.__dict__[_ATTRIBUTE] = spaces
    return spaces


def forget(table: Any) -> None:
    """Drop a table's indexes (they are rebuilt on its next Query)."""
    table.__dict__.pop(_ATTRIBUTE, None)


def reindex(table: Any, keys: Iterable[dict[str, Any]]) -> None:
    """After a write: put each named item's index entries in line with the item as it is now."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    spaces = table.__dict__.get(_ATTRIBUTE)
    if not spaces:
        forget(table)
        return
    try:
        for key in keys:
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr])
            table_key = _table_key(hash_key, range_key)
            item = table.items.get(hash_key, {}).get(range_key)
            for space in spaces.values():
                space.remove(table_key)
                if item is not None:
                    space.add(item)
    except (_Unsupported, TypeError, KeyError, AttributeError):
        forget(table)


def _named_keys(action: str, body: dict[str, Any]) -> dict[str, list[dict[str, Any]]] | None:
    """Table name -> the keys a write request names; None if the request cannot be read so."""
    items = named_items(action, body)
    if items is None:
        return None
    named: dict[str, list[dict[str, Any]]] = {}
    for table_name, key in items:
        named.setdefault(table_name, []).append(key)
    return named


def after_request(handler: Any) -> None:
    """Keep every built index in line with the items after a request (under the store's lock)."""
    action = handler._get_action()
    if action in _NO_REINDEX:
        return
    backend = handler.dynamodb_backend
    try:
        named = _named_keys(action, getattr(handler, "body", None) or {})
    except (KeyError, TypeError, AttributeError, StopIteration):
        named = None
    if named is None or not set(named) <= set(backend.tables):
        for table in list(backend.tables.values()):
            forget(table)
        return
    for table_name, keys in named.items():
        reindex(backend.tables[table_name], keys)


# --- Query --------------------------------------------------------------------------------


def _window(entries: list[Entry], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """The run [start, end) of `entries` whose range key meets the key condition."""
    if comparison is None:
        return 0, len(entries)

    def first(value: Any) -> int:
        return bisect.bisect_left(entries, value, key=_range_of)

    def after(value: Any) -> int:
        return bisect.bisect_right(entries, value, key=_range_of)

    if comparison in ("=", "EQ"):
        return first(values[0]), after(values[0])
    if comparison in ("<", "LT"):
        return 0, first(values[0])
    if comparison in ("<=", "LE"):
        return 0, after(values[0])
    if comparison in (">", "GT"):
        return after(values[0]), len(entries)
    if comparison in (">=", "GE"):
        return first(values[0]), len(entries)
    if comparison == "BETWEEN":
        start = first(values[0])
        return start, max(start, after(values[1]))
    if comparison == "BEGINS_WITH" and isinstance(values[0], str):
        prefix = values[0]
        length = len(prefix)
        start = bisect.bisect_left(entries, prefix, key=lambda entry: entry[0][:length])
        return start, bisect.bisect_right(entries, prefix, lo=start, key=lambda entry: entry[0][:length])
    raise _Unsupported(comparison)


def _range_of(entry: Entry) -> Any:
    return entry[0]


def _table_order(entry: Entry) -> tuple[Any, Any, Any]:
    return entry[0], entry[1], entry[2]


@dataclass(frozen=True)
class QueryShape:
    space: KeySpace
    partition_key: tuple[str, Any]
    comparison: str | None
    values: list[Any]


def _shape(table: Any, spaces: dict[str, KeySpace], index_name: str | None, query: dict[str, Any]) -> QueryShape:
    if query["filter_kwargs"]:
        raise _Unsupported("QueryFilter")
    limit = query["limit"]
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise _Unsupported("Limit")
    space = spaces.get(index_name or _BASE_TABLE)
    if space is None:
        raise _Unsupported("index")
    if index_name and query["consistent_read"] and any(index.name == index_name for index in table.global_indexes):
        raise _Unsupported("ConsistentRead on a GSI")  # moto's own Query says why
    hash_conditions = query["hash_key_conditions"] or []
    if len(hash_conditions) != 1 or hash_conditions[0][0] != space.hash_attr:
        raise _Unsupported("hash key condition")
    hash_value = hash_conditions[0][1]
    range_conditions = query["range_key_conditions"] or []
    comparison = query["range_comparison"]
    if range_conditions:
        if len(range_conditions) != 1 or range_conditions[0][0] != space.range_attr or range_conditions[0][1] != comparison:
            raise _Unsupported("range key condition")
    elif comparison:
        raise _Unsupported("range key condition")
    values = [value.cast_value for value in query["range_objs"]] if comparison else []
    if any(value.type not in ("S", "N") for value in query["range_objs"] if comparison):
        raise _Unsupported("range key type")
    return QueryShape(space, (hash_value.type, hash_value.cast_value), comparison, values)


def _start_key(table: Any, space: KeySpace, start: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """ExclusiveStartKey as (partition hash, range key, table hash key, table range key)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    names = (space.hash_attr, space.range_attr, table.hash_key_attr, table.range_key_attr)
    if any(name not in start for name in names):
        raise _Unsupported("partial ExclusiveStartKey")
    typed = [DynamoType(start[name]) for name in names]
    return typed[0].cast_value, typed[1].cast_value, typed[2].cast_value, typed[3].cast_value


def fast_query(table: Any, index_name: str | None, query: dict[str, Any]) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's Query, from the sorted partitions. Raises _Unsupported for moto's own to answer."""
    spaces = _key_spaces(table)
    if spaces is None:
        raise _Unsupported("table")
    shape = _shape(table, spaces, index_name, query)
    entries = shape.space.partitions.get(shape.partition_key, [])
    start, end = _window(entries, shape.comparison, shape.values)
    forward = query["scan_index_forward"] is not False
    exclusive_start = query["exclusive_start_key"]
    if exclusive_start is not None:
        after = _start_key(table, shape.space, exclusive_start)
        partition_hash = shape.partition_key[1]
        if partition_hash != after[0]:
            # Every item of the partition is on one side of the start key.
            skip_all = (partition_hash < after[0]) == forward
            start, end = (end, end) if skip_all else (start, end)
        elif forward:  # moto skips the items up to and including the start key
            start = max(start, bisect.bisect_right(entries, after[1:], key=_table_order))
        else:
            end = min(end, bisect.bisect_left(entries, after[1:], key=_table_order))
    if forward:
        window: Iterable[Entry] = entries[start:end] if end > start else []
        tail: Callable[[], Iterable[Entry]] = lambda: entries[max(end, start) :]  # noqa: E731
        has_tail = max(end, start) < len(entries)
    else:
        window = reversed(entries[start:end]) if end > start else []
        tail = lambda: reversed(entries[: min(start, end)])  # noqa: E731
        has_tail = min(start, end) > 0

    limit = query["limit"]
    results: list[Any] = []
    size = 0
    last_evaluated_key = None
    stopped = False
    for entry in window:
        item = _item(table, shape.space, shape.partition_key, entry)
        item_size = item.size()
        if len(results) == limit or size + item_size > PAGE_BYTES:
            stopped = True
            break
        results.append(item)
        size += item_size
    if results and (stopped or (has_tail and _tail_ends_page(table, shape, tail(), len(results) == limit, size))):
        last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
    scanned_count = len(results)

    # moto deep-copies the page here; nothing below changes an item (projections build new
    # ones) and the response is built from it under the lock, so the live items serve.
    if index_name:
        index = table.get_index(index_name)
        results = [index.project(result) for result in results]
    if query["filter_expression"] is not None:
        results = [result for result in results if query["filter_expression"].expr(result)]
    if query["projection_expressions"]:
        results = [result.project(query["projection_expressions"]) for result in results]
    return results, scanned_count, last_evaluated_key


def _tail_ends_page(table: Any, shape: QueryShape, tail: Iterable[Entry], at_limit: bool, size: int) -> bool:
    """moto keeps walking the partition past the key condition's range, and ends the page
    there when the limit was reached or a following item would overflow the 1 MB page."""
    if at_limit:
        return True
    if size + MAX_ITEM_BYTES <= PAGE_BYTES:
        return False
    return any(size + _item(table, shape.space, shape.partition_key, entry).size() > PAGE_BYTES for entry in tail)


def _item(table: Any, space: KeySpace, partition_key: tuple[str, Any], entry: Entry) -> Any:
    ref = entry[3]
    try:
        item = table.items[ref.hash_key][ref.range_key]
    except KeyError:
        raise _Stale from None
    found = space.entry_for(item)
    if found is None or found[0] != partition_key or found[1][:3] != entry[:3]:
        raise _Stale
    return item


class _Stale(_Unsupported):
    """An item changed without a request naming it (a direct write to the backend)."""


def use_partition_indexes() -> None:
    """Idempotent: answer moto's Query from the sorted partitions when it can."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_indexed", False):
        return
    original = Table.query

    @functools.wraps(original)
    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[tuple[str, Any]] | None = None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        arguments = {
            "range_comparison": range_comparison,
            "range_objs": range_objs,
            "limit": limit,
            "exclusive_start_key": exclusive_start_key,
            "scan_index_forward": scan_index_forward,
            "projection_expressions": projection_expressions,
            "consistent_read": consistent_read,
            "filter_expression": filter_expression,
            "hash_key_conditions": hash_key_conditions,
            "range_key_conditions": range_key_conditions,
            "filter_kwargs": filter_kwargs,
        }
        try:
            return fast_query(self, index_name, arguments)
        except _Stale:
            forget(self)
        except (_Unsupported, TypeError):
            pass
        return original(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )

    query._indexed = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
