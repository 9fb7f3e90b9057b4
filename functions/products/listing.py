"""The product listing's pagination: the Django app's `page`/`limit` pages, at a bounded cost.

Page 1 and every `next`/`previous` link cost one GetItem plus one Query of `limit` + 1 items
(two more when the page crosses into the next non-empty bucket): the links carry a cursor
besides the page number. A `page=N` typed by hand costs one Query of the catalogue counters,
then the same reads as a link. docs/data-model.md states each bound ("Worst case per request").

A cursor names the id the page starts after ("a") or ends before ("b"), and the page number and
page size it was issued for. The page and limit of the request must be those: a cursor is a
shortcut to one page, and a page number that contradicts it is a 400 naming the field, never a
page whose content and links disagree. Cursors issued before they named their page (an id
alone) still work: they cannot be checked against the page number, so the page number wins
and the request costs what a typed `page=N` costs.
"""

from dataclasses import dataclass
from typing import Any

from shop_common.catalog import (
    CatalogStats,
    catalog_stats,
    catalog_stats_and_buckets,
    products_after,
    products_at_offset,
    products_before,
)
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.errors import InvalidRequest, NotFound
from shop_common.models import Product

DEFAULT_LIMIT = 50
MAX_LIMIT = 100  # larger requests get MAX_LIMIT, as the Django app's max_page_size did

# Cursor tags: the page starts after the id ("a"), or ends before it ("b").
AFTER, BEFORE = "a", "b"


@dataclass(frozen=True)
class ProductPage:
    count: int
    results: list[Product]
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


def _page_at(page: int, limit: int) -> tuple[CatalogStats, list[Product], bool]:
    """A page by number: the counters locate it. Returns the page and whether more follow."""
    stats, buckets = catalog_stats_and_buckets()
    offset = (page - 1) * limit
    results = products_at_offset(offset, limit, stats, buckets) if offset < stats.product_count else []
    return stats, results, offset + limit < stats.product_count


def product_page(page: int, limit: int, cursor: str | None) -> ProductPage:
    limit = min(limit, MAX_LIMIT)
    shortcut = _shortcut(cursor, page, limit) if cursor else None
    if shortcut is None and page > 1:
        stats, results, more = _page_at(page, limit)
    elif shortcut is None or shortcut.tag == AFTER:
        stats = catalog_stats()
        # One product more than the page tells whether a next page exists, even when products
        # before the cursor were deleted since it was issued.
        found = products_after(shortcut.edge if shortcut else 0, limit + 1, stats)
        results, more = found[:limit], len(found) > limit
    else:
        stats = catalog_stats()
        results = products_before(shortcut.edge, limit, stats)
        more = page * limit < stats.product_count
    if not results and (page > 1 or shortcut):
        raise NotFound("Invalid page.", code="invalid_page")

    next_query: dict[str, Any] | None = None
    if more:
        next_query = {"page": page + 1, "limit": limit, "cursor": encode_cursor(AFTER, results[-1].id, page + 1, limit)}
    previous_query: dict[str, Any] | None = None
    if page == 2:
        previous_query = {"page": 1, "limit": limit}  # page 1 is as cheap as any link
    elif page > 2:
        previous_query = {"page": page - 1, "limit": limit, "cursor": encode_cursor(BEFORE, results[0].id, page - 1, limit)}
    return ProductPage(stats.product_count, results, next_query, previous_query)
