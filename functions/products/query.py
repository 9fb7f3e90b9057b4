"""What a listing request asks for beyond its page: price range, stock state, search, ordering.

Validated here, before any DynamoDB call: bad input is a 400 naming the field and costs nothing.
The query parameters' shapes (patterns, lengths, allowed values) are checked by the handler's
annotations; the rules between them here.
"""

import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shop_common.errors import InvalidRequest
from shop_common.search_words import folded_words

Ordering = Literal["id", "price", "-price"]
InStock = Literal["true", "false", "1", "0"]
MAX_SEARCH_WORDS = 10
PRICE_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"  # a price as the catalogue stores it: < 10^10, 2 places


@dataclass(frozen=True)
class ProductQuery:
    min_cents: int | None = None
    max_cents: int | None = None
    in_stock: bool | None = None
    ordering: str = "id"  # id, price, -price, or relevance (a search without an explicit ordering)
    search_words: tuple[str, ...] = ()
    search_text: str = ""

    @property
    def has_price_range(self) -> bool:
        return self.min_cents is not None or self.max_cents is not None

    @property
    def is_plain(self) -> bool:
        """The unfiltered catalogue in id order (the Django app's listing)."""
        return self.ordering == "id" and not self.has_price_range and self.in_stock is None and not self.search_words

    def link_parameters(self) -> dict[str, Any]:
        """The query's parameters, as links carry them (normalised)."""
        parameters: dict[str, Any] = {}
        if self.min_cents is not None:
            parameters["min_price"] = _price_text(self.min_cents)
        if self.max_cents is not None:
            parameters["max_price"] = _price_text(self.max_cents)
        if self.in_stock is not None:
            parameters["in_stock"] = "true" if self.in_stock else "false"
        if self.search_words:
            parameters["search"] = self.search_text
        if self.ordering != "relevance":
            parameters["ordering"] = self.ordering
        return parameters

    def fingerprint(self) -> int:
        """A short hash of what the query selects and how it orders: a cursor carries it, so a
        cursor issued for one query is refused by another."""
        text = repr((self.min_cents, self.max_cents, self.in_stock, self.ordering, self.search_words))
        return zlib.crc32(text.encode()) & 0xFFFFFF


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _price_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def product_query(
    min_price: str | None = None,
    max_price: str | None = None,
    in_stock: InStock | None = None,
    ordering: Ordering | None = None,
    search: str | None = None,
) -> ProductQuery:
    """The query of validated parameters. With a price range and no ordering, the ordering is
    price (the index's own order, every page a range read); with a search, relevance."""
    low = _cents(min_price) if min_price is not None else None
    high = _cents(max_price) if max_price is not None else None
    if low is not None and high is not None and low > high:
        message = f"min_price ({min_price}) is above max_price ({max_price})."
        raise InvalidRequest("Invalid request.", errors=[{"field": "min_price", "message": message}])
    words = tuple(folded_words(search or ""))
    if len(words) > MAX_SEARCH_WORDS:
        message = f"At most {MAX_SEARCH_WORDS} words, not {len(words)}."
        raise InvalidRequest("Invalid request.", errors=[{"field": "search", "message": message}])
    effective: str = ordering or ("relevance" if words else "price" if (low is not None or high is not None) else "id")
    return ProductQuery(
        min_cents=low,
        max_cents=high,
        in_stock=None if in_stock is None else in_stock in ("true", "1"),
        ordering=effective,
        search_words=words,
        search_text=(search or "").strip() if words else "",
    )
