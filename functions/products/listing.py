"""The product listing's pagination: the Django app's `page`/`limit` pages (paging.py), at a
bounded cost.

Page 1 and every `next`/`previous` link cost one Query of the keys-only index of every product
(`limit` + 1 ids forwards, `limit` backwards), then BatchGetItems of the page's products together
with the catalogue counters (the exact `count`), one per 100 keys, whatever the cursor and
however many products were deleted. The links carry a cursor besides the page number. A
`page=N` typed by hand (or `page=last`) costs one Query of the catalogue counters, one Query of
the same index from the bucket holding the offset, and the BatchGetItems. docs/data-model.md
states each bound ("Worst case per request").

A cursor names the id the page starts after ("a") or ends before ("b"), and the page number and
page size it was issued for. The page and limit of the request must be those: a cursor is a
shortcut to one page, and a page number that contradicts it is a 400 naming the field, never a
page whose content and links disagree. Cursors issued before they named their page (an id
alone) still work: they cannot be checked against the page number, so the page number wins
and the request costs what a typed `page=N` costs.
"""

from dataclasses import dataclass
from typing import Any

from products.catalog_reads import (
    catalog_stats_and_buckets,
    product_ids_at_offset,
    product_ids_beyond,
    products_and_count,
    public_products,
)
from products.paging import invalid_page, last_page
from shop_common.catalog import CatalogStats
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.errors import InvalidRequest
from shop_common.models import ProductView

# Cursor tags: the page starts after the id ("a"), or ends before it ("b").
AFTER, BEFORE = "a", "b"


@dataclass(frozen=True)
class ProductPage:
    count: int
    results: list[ProductView]
    next_query: dict[str, Any] | None
    previous_query: dict[str, Any] | None


@dataclass(frozen=True)
class _Shortcut:
    """Where a cursor says its page is: after or before an id."""

    tag: str
    edge: int


def _shortcut(cursor: str, page: int, limit: int) -> _Shortcut | None:
    """The cursor's edge, once it is known to belong to this page; None for an old cursor."""
    tag, numbers = decode_cursor_numbers(cursor, AFTER + BEFORE, counts=(1, 3))
    if len(numbers) == 1:
        return None
    edge, cursor_page, cursor_limit = numbers
    errors = []
    if cursor_page != page:
        errors.append({"field": "page", "message": f"The cursor belongs to page {cursor_page}, not page {page}."})
    if cursor_limit != limit:
        errors.append({"field": "limit", "message": f"The cursor belongs to pages of {cursor_limit} products, not {limit}."})
    if errors:
        raise InvalidRequest("The cursor belongs to another page: follow links as given, or leave the cursor out.", errors=errors)
    return _Shortcut(tag, edge)


def _page_at(
    page: int, limit: int, counters: tuple[CatalogStats, dict[int, int]] | None = None
) -> tuple[int, list[ProductView], bool]:
    """A page by number: the counters locate it. Returns the count, the page and whether more
    follow."""
    stats, buckets = counters or catalog_stats_and_buckets()
    offset = (page - 1) * limit
    if offset >= stats.product_count:
        return stats.product_count, [], False
    page_ids, more = product_ids_at_offset(offset, limit, buckets)
    found = public_products(page_ids)
    return stats.product_count, [found[product_id] for product_id in page_ids if product_id in found], more


def _linked_page(page: int, limit: int, shortcut: _Shortcut | None) -> tuple[int, list[ProductView], bool]:
    """Page 1 or a link's page: the ids past the cursor's edge, then those products and the count."""
    forward = shortcut is None or shortcut.tag == AFTER
    # Forwards, one id more than the page tells whether a next page exists, even when products
    # before the cursor were deleted since it was issued.
    found = product_ids_beyond(shortcut.edge if shortcut else 0, limit + 1 if forward else limit, forward=forward)
    page_ids = found[:limit] if forward else found[::-1]
    if not page_ids and (page > 1 or shortcut):
        raise invalid_page()  # before reading anything more
    results, count = products_and_count(page_ids)
    return count, results, len(found) > limit if forward else page * limit < count


def product_page(page: int | None, limit: int, cursor: str | None) -> ProductPage:
    """The page `page` (None: the last page) of `limit` products (1-1,000, paging.page_size)."""
    counters = None
    if page is None:
        counters = catalog_stats_and_buckets()
        page = last_page(counters[0].product_count, limit)
    shortcut = _shortcut(cursor, page, limit) if cursor else None
    if shortcut is None and page > 1:
        count, results, more = _page_at(page, limit, counters)
    else:
        count, results, more = _linked_page(page, limit, shortcut)
    if not results and (page > 1 or shortcut):
        raise invalid_page()

    next_query: dict[str, Any] | None = None
    if more:
        next_query = {"page": page + 1, "limit": limit, "cursor": encode_cursor(AFTER, results[-1].id, page + 1, limit)}
    previous_query: dict[str, Any] | None = None
    if page == 2:
        previous_query = {"page": 1, "limit": limit}  # page 1 is as cheap as any link
    elif page > 2:
        previous_query = {"page": page - 1, "limit": limit, "cursor": encode_cursor(BEFORE, results[0].id, page - 1, limit)}
    return ProductPage(count, results, next_query, previous_query)
