"""The listing with filters and orderings other than the plain id order (docs/data-model.md,
"Filters, search and ordering"). Two strategies, chosen from the query:

- Keyset along an index order (`in_stock` alone in id order: GSI3; ordering by price, with or
  without `in_stock` and a price range: GSI2, both stock partitions merged when `in_stock` is
  absent). A page is one Query of `limit` + 1 keys per partition, from the cursor on, and one
  BatchGetItem of the page's products; links carry a cursor, so any depth costs the same. A
  `page=N` typed by hand reads the N-1 pages before it (keys only), up to MAX_OFFSET keys.
- A result window (a price range in id order; a search: `products.search`): the matches are
  read whole, at most a bounded number, and ranked in memory.
"""

from dataclasses import dataclass
from typing import Any

from products.catalog_reads import catalog_stats, public_products
from products.index_reads import IndexEntry, IndexRange, count_entries, read_entries
from products.listing import ProductPage
from products.paging import invalid_page, last_page
from products.query import ProductQuery
from products.result_window import refuse_cursor, window_page
from products.search import search_ids
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.errors import InvalidRequest
from shop_common.stock_state import PRICE_INDEX, STOCK_INDEX, id_sort_key, price_partition, price_sort_key, stock_partition

MAX_OFFSET = 10_000  # keys a typed page number may skip; links reach any depth
COUNT_CAP = 10_000  # `count` of a price range is min(matches, COUNT_CAP)
PRICE_WINDOW = 10_000  # matches of a price range that can be listed in id order
AFTER, BEFORE = "f", "g"  # cursor tags: the page starts after / ends before a position
_ID_SPAN = 10**12  # ids have 12 digits in the index sort keys
_MAX_CENTS = 10**13 - 1  # prices have 13 digits of cents


@dataclass(frozen=True)
class _IndexOrder:
    """A listing order that is an index's own order: positions are integers along it."""

    keys: IndexRange
    by_price: bool
    ascending: bool

    @property
    def last_position(self) -> int:
        return (_MAX_CENTS + 1) * _ID_SPAN - 1 if self.by_price else _ID_SPAN - 1

    def sort_key(self, position: int) -> str:
        if self.by_price:
            return price_sort_key(position // _ID_SPAN, position % _ID_SPAN)
        return id_sort_key(position)

    def position(self, entry: IndexEntry) -> tuple[int, ...]:
        if self.by_price:
            cents, _, product_id = entry.sort_key.partition("#")
            return int(cents), int(product_id)
        return (int(entry.sort_key),)

    def position_of(self, numbers: tuple[int, ...]) -> int:
        """A cursor's numbers as a position, clamped to the index's key space."""
        if self.by_price:
            return min(numbers[0], _MAX_CENTS) * _ID_SPAN + min(numbers[1], _ID_SPAN - 1)
        return min(numbers[0], _ID_SPAN - 1)

    def beyond(self, position: int, *, forward: bool) -> IndexRange | None:
        """The keys past `position` in the listing's order (`forward`) or against it; None: none."""
        upwards = forward == self.ascending
        if upwards:
            return None if position >= self.last_position else self.keys.narrowed(low=self.sort_key(position + 1))
        return None if position <= 0 else self.keys.narrowed(high=self.sort_key(position - 1))


def _index_order(query: ProductQuery) -> _IndexOrder:
    if query.ordering == "id" and query.in_stock is not None and not query.has_price_range:  # in_stock alone
        return _IndexOrder(IndexRange(STOCK_INDEX, (stock_partition(query.in_stock),)), by_price=False, ascending=True)
    states = (True, False) if query.in_stock is None else (query.in_stock,)
    keys = IndexRange(
        PRICE_INDEX,
        tuple(price_partition(state) for state in states),
        price_sort_key(query.min_cents, 0) if query.min_cents is not None else None,
        price_sort_key(query.max_cents, _ID_SPAN - 1) if query.max_cents is not None else None,
    )
    # By price; a price range in id order reads the same keys (a window, then sorted by id).
    return _IndexOrder(keys, by_price=True, ascending=query.ordering != "-price")


def _cursor_error(message: str, field: str = "cursor") -> InvalidRequest:
    return InvalidRequest(
        "The cursor belongs to another page or query: follow links as given.", errors=[{"field": field, "message": message}]
    )


def _shortcut(cursor: str, query: ProductQuery, order: _IndexOrder, page: int, limit: int) -> tuple[str, int]:
    """(tag, position) of a cursor once it is known to belong to this query and page."""
    width = 2 if order.by_price else 1
    try:
        tag, numbers = decode_cursor_numbers(cursor, AFTER + BEFORE, counts=(width + 3,))
    except InvalidRequest:
        raise refuse_cursor() from None
    *position, cursor_page, cursor_limit, fingerprint = numbers
    if fingerprint != query.fingerprint():
        raise refuse_cursor()
    errors = []
    if cursor_page != page:
        errors.append({"field": "page", "message": f"The cursor belongs to page {cursor_page}, not page {page}."})
    if cursor_limit != limit:
        errors.append({"field": "limit", "message": f"The cursor belongs to pages of {cursor_limit} products, not {limit}."})
    if errors:
        raise InvalidRequest("The cursor belongs to another page: follow links as given, or leave the cursor out.", errors=errors)
    return tag, order.position_of(tuple(position))


def _count(query: ProductQuery, order: _IndexOrder) -> int:
    if query.has_price_range:
        return count_entries(order.keys, COUNT_CAP)
    stats = catalog_stats()
    if query.in_stock is None:
        return stats.product_count
    return stats.in_stock_count if query.in_stock else max(stats.product_count - stats.in_stock_count, 0)


def _last_page(query: ProductQuery, order: _IndexOrder, limit: int) -> tuple[int, int, list[IndexEntry] | None]:
    """`page=last`: its number and the count, and, when the count is exact (no price range, or
    fewer matches than COUNT_CAP), its entries, read backwards from the end (one Query of at
    most `limit` keys per partition) whatever the depth. Entries None: the count is capped, and
    the last page is the one the count implies, read as a typed page."""
    count = _count(query, order)
    page = last_page(count, limit)
    if query.has_price_range and count >= COUNT_CAP:
        return page, count, None
    size = count - (page - 1) * limit
    entries = read_entries(order.keys, size, ascending=not order.ascending)[0][::-1] if size > 0 else []
    return page, count, entries


def _typed_entries(order: _IndexOrder, offset: int, limit: int, count: int, capped: bool) -> tuple[list[IndexEntry], bool]:
    """A page typed by number: the keys before it are read and skipped, up to MAX_OFFSET."""
    if offset >= count and not capped:
        raise invalid_page()  # past the end: before reading any key
    if offset > MAX_OFFSET:
        message = f"Pages beyond the first {MAX_OFFSET:,} products of a filtered list are reached through next links."
        raise InvalidRequest("Invalid page.", errors=[{"field": "page", "message": message}])
    entries, more = read_entries(order.keys, offset + limit, ascending=order.ascending)
    return entries[offset:], more


def _index_page(query: ProductQuery, page: int | None, limit: int, cursor: str | None) -> ProductPage:
    order = _index_order(query)
    count: int | None = None
    last_entries: list[IndexEntry] | None = None
    if page is None:
        page, count, last_entries = _last_page(query, order, limit)
    shortcut = _shortcut(cursor, query, order, page, limit) if cursor else None
    entries: list[IndexEntry]
    if shortcut is None and last_entries is not None:
        entries, more = last_entries, False
    elif shortcut is None:
        offset = (page - 1) * limit
        if offset == 0:
            entries, more = read_entries(order.keys, limit, ascending=order.ascending)
        else:
            count = _count(query, order) if count is None else count
            capped = query.has_price_range and count >= COUNT_CAP
            entries, more = _typed_entries(order, offset, limit, count, capped)
    else:
        tag, position = shortcut
        keys = order.beyond(position, forward=tag == AFTER)
        if tag == AFTER:
            entries, more = read_entries(keys, limit, ascending=order.ascending) if keys else ([], False)
        else:
            entries = read_entries(keys, limit, ascending=not order.ascending)[0][::-1] if keys else []
            more = True  # the page the link came from follows
    if not entries and (page > 1 or shortcut):
        raise invalid_page()
    found = public_products([entry.product_id for entry in entries])
    results = [found[entry.product_id] for entry in entries if entry.product_id in found]

    def link(number: int, tag: str | None = None, entry: IndexEntry | None = None) -> dict[str, Any]:
        parameters = {**query.link_parameters(), "page": number, "limit": limit}
        if tag and entry:
            parameters["cursor"] = encode_cursor(tag, *order.position(entry), number, limit, query.fingerprint())
        return parameters

    next_query = link(page + 1, AFTER, entries[-1]) if more and entries else None
    previous_query = None
    if page == 2:
        previous_query = link(1)
    elif page > 2 and entries:
        previous_query = link(page - 1, BEFORE, entries[0])
    return ProductPage(_count(query, order) if count is None else count, results, next_query, previous_query)


def _price_window_ids(query: ProductQuery) -> list[int]:
    """The ids in a price range (a window of at most PRICE_WINDOW), in id order."""
    keys = _index_order(query).keys
    entries, more = read_entries(keys, PRICE_WINDOW, ascending=True)
    if more:
        message = f"More than {PRICE_WINDOW:,} products match: order by price, or narrow the range."
        raise InvalidRequest("Invalid request.", errors=[{"field": "ordering", "message": message}])
    return sorted(entry.product_id for entry in entries)


def filtered_page(query: ProductQuery, page: int | None, limit: int, cursor: str | None) -> ProductPage:
    """The page `page` (None: the last page) of `limit` products (1-1,000) of the query."""
    if query.search_words:
        if cursor:
            raise refuse_cursor()
        return window_page(search_ids(query), query, page, limit)
    if query.ordering == "id" and query.has_price_range:
        if cursor:
            raise refuse_cursor()
        return window_page(_price_window_ids(query), query, page, limit)
    return _index_page(query, page, limit, cursor)
