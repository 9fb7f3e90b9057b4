"""Compact item storage beneath moto's DynamoDB tables: each item kept as the bytes of its
DynamoDB JSON, and built into moto's objects only while a request uses it.

moto keeps every item as an `Item` holding one `DynamoType` object per attribute (and per
nested value): ~21 KB per stored item after a restart, so 30,000 items took 757 MB and a shop
of 50,000 products and 200,000 orders (~750,000 items with the search words and order ids)
could not fit a laptop. Here a table's `items` is a `CompactItems`: a mapping with moto's shape
(hash key -> item, or hash key -> range key -> item) whose values are stored as bytes, a few
hundred per item. moto reads and writes through it unchanged: the first time a request reads
an item, the item is built (and kept for the rest of the request, so moto's in-place updates
land on it); when the request ends (under the store's lock), the items it changed are encoded
again and the others dropped, so no moto object outlives its request.

Each partition of a table with a range key also keeps its range keys sorted, which is what
`partition_index` bisects for a Query on the table, and a Scan page reads only its own items
(moto sorts the whole table for each page). `changes` listeners see every item a request
changed (its old bytes, its new item), which is how the secondary indexes stay in line.
"""

import base64
import bisect
import functools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from shoplocal.store.snapshots import ATTRIBUTE_TYPES

_ATTRIBUTE = "_shop_compact"
Key = Any  # the hash key's cast value, or (hash, range) cast values for tables with a range key
ChangeListener = Callable[["CompactItems", Key, bytes | None, Any], None]


def encode(item: Any) -> bytes:
    """An item's attributes as compact DynamoDB JSON (binary values as base64 text): the same
    text a snapshot holds for it."""
    return orjson.dumps(json_of(item))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _json_safe(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_json_safe(inner) for inner in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def json_of(item: Any) -> dict[str, Any]:
    """A moto item's attributes as the DynamoDB JSON its bytes would hold."""
    attributes: dict[str, Any] = _json_safe(item.to_json()["Attributes"])
    return attributes


def typed(value: dict[str, Any]) -> Any:
    """What moto's DynamoType(value) builds from DynamoDB JSON, a few times faster (and binary
    values decoded from base64). Raises ValueError or TypeError on a malformed value."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    ((kind, inner),) = value.items()
    if kind not in ATTRIBUTE_TYPES:
        raise ValueError(f"{kind!r} is not a DynamoDB type")
    result = DynamoType.__new__(DynamoType)
    result.type = kind
    if kind == "L":
        result.value = [typed(v) for v in inner]
    elif kind == "M":
        result.value = {name: typed(v) for name, v in inner.items()}
    elif kind == "B":
        result.value = base64.b64decode(inner)
    elif kind == "BS":
        result.value = [base64.b64decode(v) for v in inner]
    else:
        result.value = inner
    return result


def build_item(attributes: dict[str, Any], hash_attr: str, range_attr: str | None) -> Any:
    """moto's Item for DynamoDB JSON attributes, built directly (moto's constructor re-checks the
    size limit attribute by attribute; the item passed it when it was written)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    item: Any = Item.__new__(Item)
    values = {name: typed(value) for name, value in attributes.items()}
    # Key attributes are never updated in place, so the item and its key share them (as moto's
    # own `put_item` does).
    item.hash_key = values[hash_attr]
    item.range_key = values[range_attr] if range_attr else None
    item.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(item.attrs, values)
    return item


class CompactItems:
    """A moto table's `items`: hash key -> item (or -> range key -> item), stored as bytes."""

    def __init__(self, table: Any) -> None:
        self.owner = weakref.ref(table)
        self.hash_attr: str = table.hash_key_attr
        self.range_attr: str | None = table.range_key_attr
        self.hash_type: str = table.hash_key_type
        self.range_type: str | None = table.range_key_type
        self.data: dict[Key, Any] = {}  # bytes, or the item built for the request under way
        self.ranges: dict[Any, list[Any]] = {}  # hash -> its range keys, sorted (range tables)
        self.touched: dict[Key, bytes | None] = {}  # keys used by this request -> their bytes before it
        self.listeners: list[ChangeListener] = []
        self._sorted_hashes: list[Any] | None = None

    # --- what moto calls ---------------------------------------------------------------------

    def __getitem__(self, hash_key: Any) -> Any:
        if self.range_attr:
            return _Partition(self, hash_key)
        if hash_key.type != self.hash_type:
            raise KeyError(hash_key)
        return self._get(hash_key.cast_value)

    def __setitem__(self, hash_key: Any, item: Any) -> None:
        if self.range_attr:
            raise TypeError("a table with a range key stores items by hash and range key")
        self._set(hash_key.cast_value, item)

    def __contains__(self, hash_key: Any) -> bool:
        if getattr(hash_key, "type", None) != self.hash_type:
            return False
        if self.range_attr:
            return hash_key.cast_value in self.ranges
        return hash_key.cast_value in self.data

    def pop(self, hash_key: Any, *default: Any) -> Any:
        if self.range_attr:
            raise TypeError("a table with a range key removes items by hash and range key")
        if hash_key.type != self.hash_type or hash_key.cast_value not in self.data:
            if default:
                return default[0]
            raise KeyError(hash_key)
        return self._pop(hash_key.cast_value)

    def get(self, hash_key: Any, default: Any = None) -> Any:
        try:
            return self[hash_key]
        except KeyError:
            return default

    def __len__(self) -> int:
        return len(self.ranges) if self.range_attr else len(self.data)

    def __iter__(self) -> Iterator[Any]:
        return iter([self.hash_key(value) for value in (self.ranges if self.range_attr else self.data)])

    def hash_key(self, value: Any) -> Any:
        """The DynamoType of a hash key's cast value (a number's text as Decimal gives it)."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        return DynamoType({self.hash_type: str(value) if self.hash_type == "N" else value})

    def keys(self) -> list[Any]:
        return list(self)

    def values(self) -> list[Any]:
        """Partitions (range tables) or items: moto walks them to scan, count and rebuild."""
        return [self[hash_key] for hash_key in self]

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        """A plain copy of moto's shape (what a table restored from a backup gets)."""
        import copy
        from collections import defaultdict

        plain: defaultdict[Any, Any] = defaultdict(dict)
        for hash_key in self:
            content = self[hash_key]
            plain[hash_key] = (
                {k: copy.deepcopy(v, memo) for k, v in content.items()} if self.range_attr else copy.deepcopy(content, memo)
            )
        return plain

    # --- items -------------------------------------------------------------------------------

    def key_of(self, hash_value: Any, range_value: Any) -> Key:
        return (hash_value, range_value) if self.range_attr else hash_value

    def _get(self, key: Key) -> Any:
        stored = self.data[key]
        if type(stored) is not bytes:
            return stored
        item = build_item(orjson.loads(stored), self.hash_attr, self.range_attr)
        self._touch(key, stored)
        self.data[key] = item
        return item

    def _set(self, key: Key, item: Any) -> None:
        previous = self.data.get(key)
        if key not in self.touched:
            self._touch(key, previous if type(previous) is bytes else None)
        self.data[key] = item
        if previous is None and self.range_attr:
            self._add_range(key)

    def _touch(self, key: Key, before: bytes | None) -> None:
        if not self.touched:
            _unsettled.append(self)
        self.touched.setdefault(key, before)

    def _pop(self, key: Key) -> Any:
        item = self._get(key)
        del self.data[key]
        if self.range_attr:
            self._remove_range(key)
        return item

    def _add_range(self, key: Key) -> None:
        hash_value, range_value = key
        ranges = self.ranges.get(hash_value)
        if ranges is None:
            self.ranges[hash_value] = [range_value]
            self._sorted_hashes = None
        else:
            bisect.insort(ranges, range_value)

    def _remove_range(self, key: Key) -> None:
        hash_value, range_value = key
        ranges = self.ranges[hash_value]
        del ranges[bisect.bisect_left(ranges, range_value)]
        if not ranges:
            del self.ranges[hash_value]
            self._sorted_hashes = None

    def item(self, key: Key) -> Any | None:
        """The item stored under a key (built for this request), or None."""
        return self._get(key) if key in self.data else None

    def sorted_hashes(self) -> list[Any]:
        """Every partition's hash key value, in moto's order (range tables)."""
        if self._sorted_hashes is None:
            self._sorted_hashes = sorted(self.ranges)
        return self._sorted_hashes

    def walk(self, start: dict[str, Any] | None) -> Iterator[Any]:
        """The items in moto's table order (hash key, then range key), from a Scan's
        ExclusiveStartKey (the item it names included, as moto's walk sees it) on."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        start_hash = start_range = None
        if start is not None and self.hash_attr in start:
            start_hash = DynamoType(start[self.hash_attr]).cast_value
            if self.range_attr and self.range_attr in start:
                start_range = DynamoType(start[self.range_attr]).cast_value
        if not self.range_attr:
            hashes = sorted(self.data)
            for hash_value in hashes[bisect.bisect_left(hashes, start_hash) if start_hash is not None else 0 :]:
                yield self._get(hash_value)
            return
        hashes = self.sorted_hashes()
        for hash_value in hashes[bisect.bisect_left(hashes, start_hash) if start_hash is not None else 0 :]:
            ranges = self.ranges.get(hash_value, [])
            first = bisect.bisect_left(ranges, start_range) if hash_value == start_hash and start_range is not None else 0
            for range_value in ranges[first:]:
                yield self._get((hash_value, range_value))

    # --- loading and the end of a request ----------------------------------------------------

    def load(self, hash_value: Any, range_value: Any, raw: bytes) -> None:
        """Store an item read from a snapshot, unordered: `finish_load` sorts the partitions."""
        if self.range_attr:
            key = (hash_value, range_value)
            if key not in self.data:
                ranges = self.ranges.get(hash_value)
                if ranges is None:
                    self.ranges[hash_value] = [range_value]
                else:
                    ranges.append(range_value)
            self.data[key] = raw
        else:
            self.data[hash_value] = raw

    def finish_load(self) -> None:
        for ranges in self.ranges.values():
            ranges.sort()
        self._sorted_hashes = None

    def settle(self, *, changed: bool) -> None:
        """The request is over: encode again the items it may have changed (`changed`), tell
        the listeners what changed, and keep bytes only."""
        touched, self.touched = self.touched, {}
        for key, before in touched.items():
            current = self.data.get(key)
            if current is None:
                after = None
            elif type(current) is bytes:
                continue
            elif not changed and before is not None:
                self.data[key] = before  # read only: the bytes it was built from
                continue
            else:
                after = encode(current)
                self.data[key] = after
            if after != before:
                for listener in self.listeners:
                    listener(self, key, before, current)


def of(table: Any) -> CompactItems | None:
    items = getattr(table, "items", None)
    return items if isinstance(items, CompactItems) else None


class _Partition:
    """One partition of a table with a range key, as moto sees it: range key -> item."""

    __slots__ = ("_hash_value", "_store")

    def __init__(self, store: CompactItems, hash_key: Any) -> None:
        self._store = store
        self._hash_value = hash_key.cast_value if hash_key.type == store.hash_type else _NoSuchKey

    def _key(self, range_key: Any) -> Key:
        if self._hash_value is _NoSuchKey or range_key.type != self._store.range_type:
            raise KeyError(range_key)
        return (self._hash_value, range_key.cast_value)

    def __getitem__(self, range_key: Any) -> Any:
        return self._store._get(self._key(range_key))

    def __setitem__(self, range_key: Any, item: Any) -> None:
        self._store._set(self._key(range_key), item)

    def __contains__(self, range_key: Any) -> bool:
        try:
            return self._key(range_key) in self._store.data
        except KeyError:
            return False

    def get(self, range_key: Any, default: Any = None) -> Any:
        try:
            return self[range_key]
        except KeyError:
            return default

    def pop(self, range_key: Any, *default: Any) -> Any:
        if range_key not in self:
            if default:
                return default[0]
            raise KeyError(range_key)
        return self._store._pop(self._key(range_key))

    def _range_values(self) -> list[Any]:
        return list(self._store.ranges.get(self._hash_value, ()))

    def __len__(self) -> int:
        return len(self._store.ranges.get(self._hash_value, ()))

    def __iter__(self) -> Iterator[Any]:
        return iter([item.range_key for item in self.values()])

    def keys(self) -> list[Any]:
        return list(self)

    def values(self) -> list[Any]:
        return [self._store._get((self._hash_value, value)) for value in self._range_values()]

    def items(self) -> list[tuple[Any, Any]]:
        return [(item.range_key, item) for item in self.values()]

    def update(self, other: dict[Any, Any]) -> None:
        for range_key, item in other.items():
            self[range_key] = item


class _NoSuchKeyType:
    pass


_NoSuchKey = _NoSuchKeyType()


# --- installing it beneath moto ------------------------------------------------------------


def install(table: Any) -> CompactItems:
    """Move a moto table's items into compact storage (idempotent)."""
    existing = of(table)
    if existing is not None:
        return existing
    compact = CompactItems(table)
    plain = table.items
    table.items = compact
    for hash_key, content in list(plain.items()):
        for item in content.values() if compact.range_attr else [content]:
            if compact.range_attr:
                compact[hash_key][item.range_key] = item
            else:
                compact[hash_key] = item
    compact.settle(changed=True)
    return compact


_unsettled: list[CompactItems] = []  # the stores whose items a request (or a direct call) used


def settle_all(*, changed: bool) -> None:
    """At the end of a request (under the store's lock): every item used back to bytes; with
    `changed`, the items it may have changed encoded again."""
    while _unsettled:
        _unsettled.pop().settle(changed=changed)


def use_compact_items() -> None:
    """Idempotent: every moto table created from now on keeps its items compact."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.__init__, "_compact", False):
        return
    original = Table.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        install(self)

    init._compact = True  # type: ignore[attr-defined]
    Table.__init__ = init  # type: ignore[method-assign]
    _scan_only_the_page()
    _check_item_size_once()


def _check_item_size_once() -> None:
    """moto's `Item` adds its attributes one by one to a dict that sums the size of everything
    it holds at each addition (quadratic: half of a BatchWriteItem's time). The item is built
    the same way here with one sum: sizes are positive, so the total is over the limit exactly
    when one of moto's running sums is, and the same error is raised."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    original = Item.__init__

    @functools.wraps(original)
    def init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(self.attrs, values)

    Item.__init__ = init  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405_000  # moto's (LimitedSizeDict)


def _scan_only_the_page() -> None:
    """moto's Scan sorts every item of the table for each page, then skips to the start key;
    here a Scan of the table (not of an index, not in segments) walks the compact keys in the
    same order from the start key, building only the items the page reads."""
    from moto.dynamodb.models.table import Table

    original_scan, original_all_items, original_len = Table.scan, Table.all_items, Table.__len__

    @functools.wraps(original_scan)
    def scan(self: Any, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
        segments = kwargs.get("segments", args[4] if len(args) > 4 else (None, None))
        if of(self) is None or index_name or tuple(segments) != (None, None):
            return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        self.__dict__[_SCAN_FROM] = exclusive_start_key
        try:
            return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        finally:
            self.__dict__.pop(_SCAN_FROM, None)

    @functools.wraps(original_all_items)
    def all_items(self: Any) -> Any:
        compact = of(self)
        if compact is None or _SCAN_FROM not in self.__dict__:
            return original_all_items(self)
        return compact.walk(self.__dict__[_SCAN_FROM])

    @functools.wraps(original_len)
    def length(self: Any) -> int:
        compact = of(self)
        return len(compact.data) if compact is not None else original_len(self)

    Table.scan = scan  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.__len__ = length  # type: ignore[method-assign]


_SCAN_FROM = "_shop_scan_from"
