"""Which stock state a product is in, as the keys of the indexes that list products by it.

Every product item carries two pairs of index keys (docs/data-model.md, "Filters and search"):
- GSI2PK = PRICE#IN or PRICE#OUT,  GSI2SK = <price in cents, 13 digits>#<id, 12 digits>
- GSI3PK = STOCK#IN or STOCK#OUT,  GSI3SK = <id, 12 digits>
and the catalogue counters item (CATALOG/META) counts the products in stock (`in_stock_count`).

The partition keys change only when the stock crosses 0 (sold out, restocked). Whoever writes
that crossing (an order, a restock, a staff edit) sets both partition keys and adds -1/+1 to
`in_stock_count` in the same transaction, guarded by a condition on the stock it read, so the
indexes and the count are never out of step with the stock.
"""

PRICE_INDEX = "GSI2"
STOCK_INDEX = "GSI3"
IN_STOCK_COUNT = "in_stock_count"  # attribute of CATALOG/META


def price_partition(in_stock: bool) -> str:
    return "PRICE#IN" if in_stock else "PRICE#OUT"


def stock_partition(in_stock: bool) -> str:
    return "STOCK#IN" if in_stock else "STOCK#OUT"


def state_keys(in_stock: bool) -> dict[str, str]:
    """The partition keys a product in this state carries (the sort keys never change with it)."""
    return {"GSI2PK": price_partition(in_stock), "GSI3PK": stock_partition(in_stock)}


def price_sort_key(cents: int, product_id: int) -> str:
    return f"{cents:013d}#{product_id:012d}"


def id_sort_key(product_id: int) -> str:
    return f"{product_id:012d}"
