"""Sorted partitions for moto's Query, so a Query costs what it reads, as on DynamoDB.

moto answers a Query by sorting every item of the table and walking them all (on a secondary
index, comparing each item's attributes): a page of 50 products cost ~20 ms at 200 products and
grew with every order written. Here a Query on the table bisects the partition's sorted range
keys that the compact storage keeps (`compact_items`), and each secondary index with a hash and
a range key keeps, per partition, a sorted list of (index range key, table keys) entries: built
from the items as they are loaded (or on the first Query), and moved whenever the compact
storage reports a changed item at the end of a request, under the store's lock. A Query then
finds its range by bisection and builds only the items it reads.

The answer is moto's own, step for step: the same order (index range key, then the table's
keys), `ExclusiveStartKey`, `Limit`, the 1 MB page, `ScannedCount`, `LastEvaluatedKey` (when a
page ends on `Limit` with more items in the partition, as moto answers), projections and filters.
Queries outside that shape (legacy `QueryFilter`, indexes without a range key, key types mixed
within a partition, binary keys, ...) go to moto's own Query. Tests compare both on random
workloads.
"""

import bisect
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from shoplocal.store import compact_items
from shoplocal.store.write_requests import READ_ACTIONS

# moto's page limit (its RESULT_SIZE_LIMIT) and its item size limit (LimitedSizeDict).
PAGE_BYTES = 1_000_000
MAX_ITEM_BYTES = 410_000

# Requests after which the indexes are in line by themselves: reads, writes of named items
# (the compact storage reports each change), and table creation and deletion. Any other request
# (an index added, a table restored from a backup) makes the backend's indexes be rebuilt.
_IN_LINE = READ_ACTIONS | {
    "CreateTable",
    "DeleteTable",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}
_ATTRIBUTE = "_shop_partition_indexes"


class Unsupported(Exception):
    """A Query this index does not answer; moto's own Query does."""


# (index range key, table hash key, table range key): cast values, sorted as moto sorts them.
Entry = tuple[Any, Any, Any]
PartitionKey = tuple[str, Any]  # (type, cast value) of an index hash key


@dataclass
class KeySpace:
    """The sorted partitions of one secondary index with a hash and a range key."""

    hash_attr: str
    range_attr: str
    partitions: dict[PartitionKey, list[Entry]] = field(default_factory=dict)

    def entry_for_json(self, attributes: dict[str, Any], table_key: tuple[Any, Any]) -> tuple[PartitionKey, Entry] | None:
        """The entry of an item given as DynamoDB JSON (as stored)."""
        return self._entry(_json_key(attributes.get(self.hash_attr)), _json_key(attributes.get(self.range_attr)), table_key)

    def entry_for_item(self, item: Any, table_key: tuple[Any, Any]) -> tuple[PartitionKey, Entry] | None:
        """The entry of moto's item."""
        return self._entry(_typed_key(item.attrs.get(self.hash_attr)), _typed_key(item.attrs.get(self.range_attr)), table_key)

    @staticmethod
    def _entry(
        hash_value: PartitionKey | None, range_value: PartitionKey | None, table_key: tuple[Any, Any]
    ) -> tuple[PartitionKey, Entry] | None:
        if hash_value is None or range_value is None:  # not in the index (sparse), as moto's walk decides
            return None
        return hash_value, (range_value[1], table_key[0], table_key[1])

    def add(self, found: tuple[PartitionKey, Entry], *, in_order: bool = True) -> None:
        """Index an entry; with `in_order=False` (a build) the caller sorts the partitions after."""
        partition_key, entry = found
        entries = self.partitions.setdefault(partition_key, [])
        if entries and type(entries[0][0]) is not type(entry[0]):
            raise Unsupported("key types mixed within a partition")
        if in_order:
            bisect.insort(entries, entry)
        else:
            entries.append(entry)

    def remove(self, found: tuple[PartitionKey, Entry]) -> None:
        partition_key, entry = found
        entries = self.partitions.get(partition_key, [])
        position = bisect.bisect_left(entries, entry)
        if position < len(entries) and entries[position] == entry:
            del entries[position]
            if not entries:
                del self.partitions[partition_key]

    def sort(self) -> None:
        for entries in self.partitions.values():
            entries.sort()


def _json_key(value: Any) -> PartitionKey | None:
    """(type, cast value) of a key attribute in DynamoDB JSON, as moto's DynamoType casts it."""
    if not value:
        return None
    ((kind, inner),) = value.items()
    if kind == "S":
        return kind, inner
    if kind == "N":
        return kind, Decimal(inner)
    raise Unsupported("binary or non-scalar keys")


def _typed_key(value: Any) -> PartitionKey | None:
    if not value:
        return None
    if value.type not in ("S", "N"):
        raise Unsupported("binary or non-scalar keys")
    return value.type, value.cast_value


def _new_spaces(table: Any) -> dict[str, KeySpace]:
    spaces: dict[str, KeySpace] = {}
    for index in table.all_indexes():
        hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
        if len(hashes) == 1 and len(ranges) == 1:
            spaces[index.name] = KeySpace(hashes[0], ranges[0])
    return spaces


class IndexBuild:
    """Builds a table's index partitions from its items as DynamoDB JSON (a restore feeds it the
    items it loads, so nothing is parsed twice)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.spaces: dict[str, KeySpace] | None = _new_spaces(table) if table.range_key_attr else None

    def add(self, attributes: dict[str, Any], table_key: tuple[Any, Any]) -> None:
        if not self.spaces:
            return
        try:
            for space in self.spaces.values():
                found = space.entry_for_json(attributes, table_key)
                if found is not None:
                    space.add(found, in_order=False)
        except (Unsupported, TypeError, ValueError, ArithmeticError):
            self.spaces = None

    def finish(self) -> None:
        compact = compact_items.of(self.table)
        if self.spaces is None or compact is None:
            return
        try:
            for space in self.spaces.values():
                space.sort()
        except (Unsupported, TypeError):
            return
        _attach(self.table, compact, self.spaces)


def _attach(table: Any, compact: compact_items.CompactItems, spaces: dict[str, KeySpace]) -> None:
    table.__dict__[_ATTRIBUTE] = spaces
    if _keep_in_line not in compact.listeners:
        compact.listeners.append(_keep_in_line)


def _key_spaces(table: Any) -> dict[str, KeySpace] | None:
    """The table's index partitions, built on first use; None when the table cannot be indexed
    (no compact storage, no range key, keys of another type)."""
    spaces: dict[str, KeySpace] | None = table.__dict__.get(_ATTRIBUTE)
    if spaces is not None:
        return spaces
    compact = compact_items.of(table)
    if compact is None or not table.range_key_attr:
        return None
    build = IndexBuild(table)
    for key, stored in compact.data.items():
        attributes = orjson.loads(stored) if type(stored) is bytes else stored.to_json()["Attributes"]
        build.add(attributes, key)
    build.finish()
    spaces = table.__dict__.get(_ATTRIBUTE)
    if spaces is None:
        table.__dict__[_ATTRIBUTE] = {}  # moto's walk answers; tried again after the table's next write
        return {}
    return spaces


def forget(table: Any) -> None:
    """Drop a table's index partitions (they are rebuilt on its next Query)."""
    table.__dict__.pop(_ATTRIBUTE, None)


def _keep_in_line(compact: compact_items.CompactItems, key: Any, before: bytes | None, after: Any) -> None:
    """A request changed an item (under the store's lock): move its entries."""
    table = compact.owner()
    if table is None:
        return
    spaces = table.__dict__.get(_ATTRIBUTE)
    if not spaces:
        forget(table)
        return
    try:
        old_attributes = orjson.loads(before) if before is not None else None
        for space in spaces.values():
            if old_attributes is not None:
                found = space.entry_for_json(old_attributes, key)
                if found is not None:
                    space.remove(found)
            if after is not None:
                found = space.entry_for_item(after, key)
                if found is not None:
                    space.add(found)
    except (Unsupported, TypeError, ValueError, ArithmeticError):
        forget(table)


def after_request(handler: Any) -> None:
    """After a request that may have changed a table's definition: rebuild the indexes."""
    if handler._get_action() in _IN_LINE:
        return
    for table in list(handler.dynamodb_backend.tables.values()):
        forget(table)


# --- Query --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """One partition's sorted entries and how to read them: the table's own range keys, or an
    index's (index range key, table hash key, table range key) entries."""

    entries: list[Any]
    range_of: Callable[[Any], Any]  # entry -> the range key the key condition compares
    table_order: Callable[[Any], tuple[Any, Any, Any]]  # entry -> (range key, table hash, table range)
    key_of: Callable[[Any], tuple[Any, Any]]  # entry -> the item's key in the compact storage


def _base_run(compact: compact_items.CompactItems, hash_value: Any) -> _Run:
    return _Run(
        compact.ranges.get(hash_value, []),
        lambda value: value,
        lambda value: (value, hash_value, value),
        lambda value: (hash_value, value),
    )


def _index_run(entries: list[Entry]) -> _Run:
    return _Run(entries, lambda entry: entry[0], lambda entry: entry, lambda entry: (entry[1], entry[2]))


def _window(run: _Run, comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """The run [start, end) of the entries whose range key meets the key condition."""
    entries = run.entries
    if comparison is None:
        return 0, len(entries)

    def first(value: Any) -> int:
        return bisect.bisect_left(entries, value, key=run.range_of)

    def after(value: Any) -> int:
        return bisect.bisect_right(entries, value, key=run.range_of)

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

        def head(entry: Any) -> Any:
            return run.range_of(entry)[:length]

        start = bisect.bisect_left(entries, prefix, key=head)
        return start, bisect.bisect_right(entries, prefix, lo=start, key=head)
    raise Unsupported(comparison)


@dataclass(frozen=True)
class QueryShape:
    hash_attr: str
    range_attr: str
    partition_key: PartitionKey
    comparison: str | None
    values: list[Any]


def _shape(table: Any, spaces: dict[str, KeySpace], index_name: str | None, query: dict[str, Any]) -> QueryShape:
    if query["filter_kwargs"]:
        raise Unsupported("QueryFilter")
    limit = query["limit"]
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise Unsupported("Limit")
    if index_name:
        space = spaces.get(index_name)
        if space is None:
            raise Unsupported("index")
        hash_attr, range_attr = space.hash_attr, space.range_attr
    else:
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    if index_name and query["consistent_read"] and any(index.name == index_name for index in table.global_indexes):
        raise Unsupported("ConsistentRead on a GSI")  # moto's own Query says why
    hash_conditions = query["hash_key_conditions"] or []
    if len(hash_conditions) != 1 or hash_conditions[0][0] != hash_attr:
        raise Unsupported("hash key condition")
    hash_value = hash_conditions[0][1]
    if hash_value.type not in ("S", "N"):
        raise Unsupported("hash key type")
    range_conditions = query["range_key_conditions"] or []
    comparison = query["range_comparison"]
    if range_conditions:
        if len(range_conditions) != 1 or range_conditions[0][0] != range_attr or range_conditions[0][1] != comparison:
            raise Unsupported("range key condition")
    elif comparison:
        raise Unsupported("range key condition")
    values = [value.cast_value for value in query["range_objs"]] if comparison else []
    if any(value.type not in ("S", "N") for value in query["range_objs"] if comparison):
        raise Unsupported("range key type")
    return QueryShape(hash_attr, range_attr, (hash_value.type, hash_value.cast_value), comparison, values)


def _start_key(table: Any, shape: QueryShape, start: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """ExclusiveStartKey as (partition hash, range key, table hash key, table range key)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    names = (shape.hash_attr, shape.range_attr, table.hash_key_attr, table.range_key_attr)
    if any(name not in start for name in names):
        raise Unsupported("partial ExclusiveStartKey")
    typed = [DynamoType(start[name]) for name in names]
    return typed[0].cast_value, typed[1].cast_value, typed[2].cast_value, typed[3].cast_value


def _run_for(
    table: Any, compact: compact_items.CompactItems, spaces: dict[str, KeySpace], index_name: str | None, shape: QueryShape
) -> _Run:
    kind, value = shape.partition_key
    if index_name:
        return _index_run(spaces[index_name].partitions.get(shape.partition_key, []))
    return _base_run(compact, value if kind == table.hash_key_type else _NoPartition)


class _NoPartitionType:
    pass


_NoPartition = _NoPartitionType()


@dataclass(frozen=True)
class QueryPage:
    """A Query's page as stored (DynamoDB JSON), with only what the index projects."""

    items: list[dict[str, Any]]
    more: bool  # the page ends where moto gives a LastEvaluatedKey


def query_page(table: Any, index_name: str | None, query: dict[str, Any], *, keys_from_index: bool = False) -> QueryPage:
    """The items of moto's Query (before its filter and projection), from the sorted partitions.
    Raises Unsupported for moto's own to answer, _Stale for an item changed behind its back.
    `keys_from_index`: a keys-only index page is read from the index entries alone (see
    `_keys_only_reader`); only for callers that keep the index in line first (the fast lane)."""
    spaces = _key_spaces(table)
    compact = compact_items.of(table)
    if spaces is None or compact is None:
        raise Unsupported("table")
    shape = _shape(table, spaces, index_name, query)
    run = _run_for(table, compact, spaces, index_name, shape)
    entries = run.entries
    start, end = _window(run, shape.comparison, shape.values)
    forward = query["scan_index_forward"] is not False
    exclusive_start = query["exclusive_start_key"]
    if exclusive_start is not None:
        after = _start_key(table, shape, exclusive_start)
        partition_hash = shape.partition_key[1]
        if partition_hash != after[0]:
            # Every item of the partition is on one side of the start key.
            skip_all = (partition_hash < after[0]) == forward
            start, end = (end, end) if skip_all else (start, end)
        elif forward:  # moto skips the items up to and including the start key
            start = max(start, bisect.bisect_right(entries, after[1:], key=run.table_order))
        else:
            end = min(end, bisect.bisect_left(entries, after[1:], key=run.table_order))
    # The window and the tail are walked by position, never sliced: a page reads a few dozen of a
    # partition's entries, and a slice copied all of them (50,000 products: two-fifths of the
    # store's time on a products page).
    if forward:
        window: Iterable[Any] = map(entries.__getitem__, range(start, end))
        tail: Callable[[], Iterable[Any]] = lambda: map(entries.__getitem__, range(max(end, start), len(entries)))  # noqa: E731
        has_tail = max(end, start) < len(entries)
    else:
        window = map(entries.__getitem__, range(end - 1, start - 1, -1))
        tail = lambda: map(entries.__getitem__, range(min(start, end) - 1, -1, -1))  # noqa: E731
        has_tail = min(start, end) > 0

    def stored_of(entry: Any) -> tuple[dict[str, Any], int]:
        return _stored(compact, spaces, index_name, shape.partition_key, run, entry)

    # The 1 MB page as moto counts it (attribute names and values). An item's JSON is never
    # shorter than that count, so the exact sizes are worked out only once the JSON lengths
    # come near the limit.
    limit = query["limit"]
    page: list[dict[str, Any]] = []
    size = 0  # the JSON lengths, until `exact`
    exact = False
    stopped = False
    keys_of = _keys_only_reader(table, compact, index_name, shape, run) if keys_from_index else None
    for entry in window:
        if keys_of is not None:
            found = keys_of(entry)
            if found is None or size + found[1] + MAX_ITEM_BYTES > PAGE_BYTES:
                # An item not stored as bytes, or a page near 1 MB (sized from whole items): item by item.
                return query_page(table, index_name, query)
            attributes, length = found
        else:
            attributes, length = stored_of(entry)
        if not exact and size + length > PAGE_BYTES:
            exact = True
            size = sum(_size(item) for item in page)
        item_size = _size(attributes) if exact else length
        if len(page) == limit or size + item_size > PAGE_BYTES:
            stopped = True
            break
        page.append(attributes)
        size += item_size
    if not exact and size + MAX_ITEM_BYTES > PAGE_BYTES:
        size = sum(_size(item) for item in page)
    # Only what the index projects (its keys and the table's keys at least, which
    # LastEvaluatedKey reads): a keys-only index page carries a few attributes.
    kept = _projected_names(table, index_name)
    if kept is not None:
        page = [{name: value for name, value in attributes.items() if name in kept} for attributes in page]
    more = bool(page) and (stopped or (has_tail and _tail_ends_page(stored_of, tail(), len(page) == limit, size)))
    return QueryPage(page, more)


def _keys_only_reader(
    table: Any, compact: compact_items.CompactItems, index_name: str | None, shape: QueryShape, run: _Run
) -> Callable[[Any], tuple[dict[str, Any], int] | None] | None:
    """For a keys-only index whose keys and the table's are all strings: an entry's item as the
    index projects it, made from the entry (a string key is its own cast value), and the length
    of the item's stored JSON; no item is parsed. A products page's keys-only Query parsed 51
    whole products to return their ids. None for any other index."""
    if not index_name or (table.get_index(index_name).projection or {}).get("ProjectionType") != "KEYS_ONLY":
        return None
    types = {definition["AttributeName"]: definition["AttributeType"] for definition in table.attr}
    names = (shape.hash_attr, shape.range_attr, table.hash_key_attr, table.range_key_attr)
    if any(name is None or types.get(name) != "S" for name in names):
        return None
    partition = {"S": shape.partition_key[1]}

    def read(entry: Any) -> tuple[dict[str, Any], int] | None:
        stored = compact.data.get(run.key_of(entry))
        if type(stored) is not bytes:
            return None
        item = {shape.hash_attr: partition, shape.range_attr: {"S": entry[0]}}
        item.update({table.hash_key_attr: {"S": entry[1]}, table.range_key_attr: {"S": entry[2]}})
        return item, len(stored)

    return read


def last_evaluated_key(table: Any, index_name: str | None, item: dict[str, Any]) -> dict[str, Any]:
    """moto's LastEvaluatedKey (`Table._get_last_evaluated_key`) of an item as stored."""
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None and table.range_key_attr in item:
        key[table.range_key_attr] = item[table.range_key_attr]
    if index_name:
        for column in table.get_index(index_name).schema:
            key[column["AttributeName"]] = item[column["AttributeName"]]
    return key


def fast_query(table: Any, index_name: str | None, query: dict[str, Any]) -> tuple[list[Any], int, dict[str, Any] | None]:
    """moto's Query, from the sorted partitions. Raises Unsupported for moto's own to answer."""
    page = query_page(table, index_name, query)
    results = [compact_items.build_item(attributes, table.hash_key_attr, table.range_key_attr) for attributes in page.items]
    last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name) if page.more else None
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


def _tail_ends_page(
    stored_of: Callable[[Any], tuple[dict[str, Any], int]], tail: Iterable[Any], at_limit: bool, size: int
) -> bool:
    """moto keeps walking the partition past the key condition's range, and ends the page
    there when the limit was reached or a following item would overflow the 1 MB page."""
    if at_limit:
        return True
    if size + MAX_ITEM_BYTES <= PAGE_BYTES:
        return False
    return any(size + _size(stored_of(entry)[0]) > PAGE_BYTES for entry in tail)


def _projected_names(table: Any, index_name: str | None) -> set[str] | None:
    """The attributes an index projects (None: all of them)."""
    if not index_name:
        return None
    index = table.get_index(index_name)
    kind = (index.projection or {}).get("ProjectionType")
    if kind not in ("KEYS_ONLY", "INCLUDE"):
        return None
    names = {*index.table_key_attrs, *index.schema_key_attrs}
    if kind == "INCLUDE":
        names.update(index.projection.get("NonKeyAttributes", []))
    return names


def _stored(
    compact: compact_items.CompactItems,
    spaces: dict[str, KeySpace],
    index_name: str | None,
    partition_key: PartitionKey,
    run: _Run,
    entry: Any,
) -> tuple[dict[str, Any], int]:
    """The entry's item as stored (DynamoDB JSON) and the length of its JSON, at least its size
    as moto counts it."""
    key = run.key_of(entry)
    stored = compact.data.get(key)
    if stored is None:
        raise _Stale
    if type(stored) is bytes:
        attributes: dict[str, Any] = orjson.loads(stored)
        length = len(stored)
    else:  # built by this request: its exact size
        attributes = compact_items.json_of(stored)
        length = _size(attributes)
    if index_name:
        found = spaces[index_name].entry_for_json(attributes, key)
        if found is None or found[0] != partition_key or found[1] != entry:
            raise _Stale
    return attributes, length


def _size(attributes: dict[str, Any]) -> int:
    """moto's size of an item as stored: `bytesize(name) + DynamoType(value).size()` for each
    attribute (binary values as base64 text)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in attributes.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "N":
        return len(str(inner))
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: member}) for member in inner)
    if kind == "L":
        return sum(_value_size(member) for member in inner)
    if kind == "M":
        return sum(len(name.encode()) + _value_size(member) for name, member in inner.items())
    if kind in ("BOOL", "NULL") and isinstance(inner, bool):
        return 1
    if kind == "B":
        import base64

        return len(base64.b64decode(inner))
    return len(inner.encode())


class _Stale(Unsupported):
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
        except (Unsupported, TypeError):
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
