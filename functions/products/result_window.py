"""Pages of a bounded result set ranked in memory (a search, a price range in id order): the
page is an offset into the ranked ids, so `page=N` typed by hand costs what a link costs, and
links need no cursor. Only the page's products are read (one BatchGetItem)."""

from typing import Any

from products.catalog_reads import public_products
from products.listing import ProductPage
from products.paging import invalid_page, last_page
from products.query import ProductQuery
from shop_common.errors import InvalidRequest


def refuse_cursor() -> InvalidRequest:
    """A cursor sent with a query whose links carry none: it belongs to another query."""
    message = "This cursor belongs to another query (filters, search or ordering): follow links as given."
    return InvalidRequest("Invalid cursor.", errors=[{"field": "cursor", "message": message}])


def window_page(ranked_ids: list[int], query: ProductQuery, page: int | None, limit: int) -> ProductPage:
    """The page `page` (None: the last page) of `limit` of the ranked ids."""
    page = last_page(len(ranked_ids), limit) if page is None else page
    offset = (page - 1) * limit
    page_ids = ranked_ids[offset : offset + limit]
    if not page_ids and page > 1:
        raise invalid_page()
    found = public_products(page_ids)
    results = [found[product_id] for product_id in page_ids if product_id in found]

    def link(number: int) -> dict[str, Any]:
        return {**query.link_parameters(), "page": number, "limit": limit}

    next_query = link(page + 1) if offset + limit < len(ranked_ids) else None
    previous_query = link(page - 1) if page > 1 else None
    return ProductPage(len(ranked_ids), results, next_query, previous_query)
