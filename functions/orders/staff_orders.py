"""Staff: every customer's orders, newest first, by user and status, for support."""

from orders.lookup import all_orders, user_orders
from shop_common.cursors import decode_cursor, encode_cursor
from shop_common.order_index import STATUSES, OrderStatus
from shop_common.orders import Order

_OLDER_THAN = "s"  # cursor tag: the page holds orders older than the id


def staff_order_page(
    limit: int, cursor: str | None, user: int | None, status: OrderStatus | None
) -> tuple[list[Order], str | None]:
    """A page of orders and the cursor of the next one (None at the end), for a caller the
    handler has checked is staff. The cursor only says where the page starts; the filters come
    from the request each time."""
    before = decode_cursor(cursor, _OLDER_THAN)[1] if cursor else None
    if user is not None:
        orders, more = user_orders(user, status, limit, before)
    else:
        orders, more = all_orders((status,) if status else STATUSES, limit, before)
    return orders, encode_cursor(_OLDER_THAN, orders[-1].id) if more and orders else None
