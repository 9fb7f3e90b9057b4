"""Lambda handler for POST /api/order and GET /api/my-orders: HTTP in and out, nothing else."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.cancellation import cancel_order, visible_order
from orders.customer_orders import list_orders, older_than, place_order, quote_order
from orders.idempotency import MAX_KEY_LENGTH, Outcome, once, register_context
from orders.models import OrderRequest, QuoteJson, QuoteRequest
from orders.original_errors import order_errors
from orders.staff_orders import staff_order_page
from shop_common.api import (
    MAX_ESCAPED_BODY,
    CursorQuery,
    JsonText,
    absolute_url,
    create_resolver,
    documented,
    escaped_size,
    json_response,
    json_text,
)
from shop_common.errors import ShopError
from shop_common.order_index import OrderStatus
from shop_common.orders import Order
from shop_common.signed_in import SIGNED_IN, resolve_signed_in
from shop_common.snapstart import register_hooks
from shop_common.staff_access import require_staff

# my-orders is a plain list, newest first, as the Django app returned every order of the
# caller: up to MY_ORDERS_LIMIT orders (and as many of them as a response can carry), older
# ones a `Link: <...>; rel="next"` header away. `limit` and `cursor` are additions.
MY_ORDERS_LIMIT = 1000
# Pages of the staff's list of every customer's orders.
STAFF_PAGE_SIZE = 100
# Refused orders the dashboard counts (and an alarm watches: conflicts), by the error's code.
REFUSAL_METRICS = {"insufficient_stock": "SoldOutRefusals", "conflict": "OrderConflicts"}

OrderId = Annotated[int, Path(ge=1, lt=2**53, description="The order's id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[ -~]+$",  # printable ASCII
        description="Optional. The same key with the same request within 24 hours answers the first response again "
        "(with `Idempotent-Replayed: true`) and changes nothing; with another request, 422.",
    ),
]

logger = Logger()
metrics = Metrics()
# POST /api/order is the Django app's: form bodies too, and its keys in validation errors (the
# quote takes the same body, so it answers the same keys).
app = create_resolver(form_paths=("/api/order",), original_errors={"/api/order": order_errors, "/api/order/quote": order_errors})
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore


@app.post(
    "/api/order",
    summary="Place an order: all or nothing, never beyond the stock",
    security=SIGNED_IN,
    responses={
        201: documented("The order as placed (or, for a repeated Idempotency-Key, as first answered)", Order),
        409: {
            "description": "`price_changed` (the total is not `expected_total`; the body holds the fresh `quote`), "
            "concurrent orders kept winning, or the same Idempotency-Key is in use; nothing was written"
        },
        422: {"description": "The Idempotency-Key was used before with another request"},
    },
)
def create_order(request: OrderRequest, idempotency_key: IdempotencyKey = None) -> Response[str]:
    user_id = app.context["user_id"]

    def place() -> str:
        try:
            order = place_order(user_id, request)
        except ShopError as refused:
            if refused.code in REFUSAL_METRICS:
                _publish_order_metrics({REFUSAL_METRICS[refused.code]: 1})
            raise
        _publish_order_metrics({"OrdersPlaced": 1, "OrderLines": len(order.parts)})
        return json_text(order.model_dump())

    outcome = once("order", user_id, idempotency_key, request.model_dump(mode="json"), place)
    return _answer(201, outcome)


@app.post(
    "/api/order/quote",
    summary="What an order would cost now: the same body as POST /api/order, nothing written",
    security=SIGNED_IN,
    responses={200: documented("The priced basket, with the offers that apply and hints", QuoteJson)},
)
def quote(request: QuoteRequest) -> Response[str]:
    return json_response(200, quote_order(app.context["user_id"], request).model_dump())


def _answer(status: int, outcome: Outcome) -> Response[str]:
    body = JsonText(outcome.body) if isinstance(outcome.body, str) else outcome.body
    return json_response(status, body, {"Idempotent-Replayed": "true"} if outcome.replayed else None)


def _publish_order_metrics(counts: dict[str, int]) -> None:
    # Telemetry must never change the answer: a placed order turned into an error would be
    # retried (and so ordered twice). Flushed here rather than by @log_metrics, which would warn
    # on every request that records no metric.
    try:
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()
    except Exception:
        logger.exception("Could not publish order metrics")


@app.get(
    "/api/my-orders",
    summary="The caller's orders, newest first, as a plain list (the Django app's answer)",
    description=f"Without parameters, the newest {MY_ORDERS_LIMIT:,} orders (as many of them as a response can carry, "
    'about 6 MB); older ones are behind a `Link: <...>; rel="next"` header, which `limit` and `cursor` follow.',
    security=SIGNED_IN,
    responses={200: documented("The orders, each as it was placed", list[Order])},
)
def my_orders(
    limit: Annotated[int, Query(ge=1, le=MY_ORDERS_LIMIT)] = MY_ORDERS_LIMIT,
    cursor: CursorQuery = None,
) -> Response[str]:
    orders, more = list_orders(app.context["user_id"], limit, cursor)
    texts: list[str] = []
    size = 0
    for order in orders:
        text = json_text(order.model_dump())
        size += escaped_size(text)
        if texts and size > MAX_ESCAPED_BODY:
            break  # the rest are one `next` link away
        texts.append(text)
    headers = None
    if more or len(texts) < len(orders):
        next_url = absolute_url(app.current_event, {"limit": limit, "cursor": older_than(orders[len(texts) - 1])})
        headers = {"Link": f'<{next_url}>; rel="next"'}
    return json_response(200, JsonText(f"[{','.join(texts)}]"), headers)


@app.get(
    "/api/orders/<order_id>",
    summary="One order, for its owner or for staff",
    security=SIGNED_IN,
    responses={200: documented("The order", Order), 404: {"description": "No such order, or another customer's"}},
)
def get_order(order_id: OrderId) -> Response[str]:
    order, _ = visible_order(app.context["user_id"], order_id)
    return json_response(200, order.model_dump())


@app.post(
    "/api/orders/<order_id>/cancel",
    summary="Cancel an order: its stock goes back, once",
    description="The owner may cancel a placed order within the cancel window; staff may cancel any placed order.",
    security=SIGNED_IN,
    responses={
        200: documented("The order, now cancelled", Order),
        404: {"description": "No such order, or another customer's"},
        409: {
            "description": "Already cancelled, past the cancel window, a product's stock would pass its ceiling, "
            "concurrent orders, or the Idempotency-Key in use"
        },
        422: {"description": "The Idempotency-Key was used before with another request"},
    },
)
def cancel(order_id: OrderId, idempotency_key: IdempotencyKey = None) -> Response[str]:
    user_id = app.context["user_id"]

    def cancel_once() -> str:
        order = cancel_order(user_id, order_id)
        _publish_order_metrics({"OrdersCancelled": 1})
        return json_text(order.model_dump())

    return _answer(200, once("cancel", user_id, idempotency_key, {"order_id": order_id}, cancel_once))


@app.get(
    "/api/orders",
    summary="Staff: all orders, newest first, by user and status",
    security=SIGNED_IN,
    responses={
        200: documented('A page of orders; the next page behind a `Link: <...>; rel="next"` header', list[Order]),
        403: {"description": "Signed in, but not staff"},
    },
)
def all_orders(
    limit: Annotated[int, Query(ge=1, le=STAFF_PAGE_SIZE)] = STAFF_PAGE_SIZE,
    cursor: CursorQuery = None,
    user: Annotated[int | None, Query(ge=1, lt=2**53, description="Only this user's orders")] = None,
    status: Annotated[OrderStatus | None, Query(description="Only orders with this status")] = None,
) -> Response[str]:
    orders, next_cursor = staff_order_page(limit, cursor, user, status)
    headers = None
    if next_cursor:
        query: dict[str, Any] = {"limit": limit, "cursor": next_cursor}
        query |= {name: value for name, value in (("user", user), ("status", status)) if value is not None}
        headers = {"Link": f'<{absolute_url(app.current_event, query)}>; rel="next"'}
    return json_response(200, [order.model_dump() for order in orders], headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    register_context(context)
    # Every route here needs a signed-in user; the staff listing checks the role before any
    # parameter is parsed (a customer gets 403 whatever the query).
    permission = require_staff if event.get("routeKey") == "GET /api/orders" else None
    return resolve_signed_in(app, event, context, logger, permission=permission)
