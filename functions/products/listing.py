"""The product listing's pagination: the Django app's `page`/`limit` pages, at a bounded cost.

Page 1 and every `next`/`previous` link cost one GetItem plus one or two Queries that read
`limit` items: the links carry a cursor (the id the page starts after or ends before) besides
the page number. A `page=N` typed by hand costs one Query of the catalogue counters, then the
same reads as a link (see docs/data-model.md).
"""

from dataclasses import dataclass
from typing import Any

from shop_common.catalog import catalog_stats, catalog_stats_and_buckets, products_after, products_at_offset, products_before
from shop_common.cursors import decode_cursor, encode_cursor
from shop_common.errors import NotFound
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


def product_page(page: int, limit: int, cursor: str | None) -> ProductPage:
    limit = min(limit, MAX_LIMIT)
    if cursor:
        tag, edge = decode_cursor(cursor, AFTER + BEFORE)
        stats = catalog_stats()
        results = products_after(edge, limit, stats) if tag == AFTER else products_before(edge, limit)
    elif page == 1:
        stats = catalog_stats()
        results = products_after(0, limit, stats)
    else:
        stats, buckets = catalog_stats_and_buckets()
        offset = (page - 1) * limit
        results = products_at_offset(offset, limit, stats, buckets) if offset < stats.product_count else []
    if page > 1 and not results:
        raise NotFound("Invalid page.", code="invalid_page")

    next_query: dict[str, Any] | None = None
    if results and page * limit < stats.product_count:
        next_query = {"page": page + 1, "limit": limit, "cursor": encode_cursor(AFTER, results[-1].id)}
    previous_query: dict[str, Any] | None = None
    if page == 2:
        previous_query = {"page": 1, "limit": limit}  # page 1 is as cheap as any link
    elif page > 2:
        previous_query = {"page": page - 1, "limit": limit, "cursor": encode_cursor(BEFORE, results[0].id)}
    return ProductPage(stats.product_count, results, next_query, previous_query)
