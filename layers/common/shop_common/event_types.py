"""The domain events the shop publishes (docs/events.md): the events function emits them, and
webhook endpoints subscribe to them by these names."""

from typing import Literal, get_args

ORDER_PLACED = "order.placed"
ORDER_CANCELLED = "order.cancelled"
PRODUCT_SOLD_OUT = "product.sold_out"
PRODUCT_BACK_IN_STOCK = "product.back_in_stock"
PRODUCT_PRICE_CHANGED = "product.price_changed"
USER_REGISTERED = "user.registered"
# The names as one type, for the webhooks API's validation (a Literal spells its values out).
EventType = Literal[
    "order.placed", "order.cancelled", "product.sold_out", "product.back_in_stock", "product.price_changed", "user.registered"
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
assert set(EVENT_TYPES) == {
    ORDER_PLACED,
    ORDER_CANCELLED,
    PRODUCT_SOLD_OUT,
    PRODUCT_BACK_IN_STOCK,
    PRODUCT_PRICE_CHANGED,
    USER_REGISTERED,
}
