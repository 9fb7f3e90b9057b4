"""Lambda handler for the staff webhooks API: POST/GET /api/webhooks, GET/PATCH/DELETE
/api/webhooks/{webhook_id}, POST .../rotate-secret, GET .../deliveries and POST
.../deliveries/{delivery_id}/redeliver. HTTP in and out, nothing else (docs/webhooks.md)."""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from shop_common.api import CursorQuery, absolute_url, documented, json_response
from shop_common.cursors import decode_cursor_numbers, encode_cursor
from shop_common.signed_in import SIGNED_IN
from shop_common.staff_api import FORBIDDEN, staff_function, staff_handler
from webhooks.admin import add, change, deliveries, listed, redeliver, remove, rotate, shown
from webhooks.models import DeliveryJson, NewWebhook, NewWebhookJson, RotatedSecretJson, WebhookChanges, WebhookJson

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger, app = staff_function()
UNKNOWN: "OpenAPIResponse" = {"description": "No webhook with that id"}
WebhookId = Annotated[str, Path(pattern=r"^wh_[a-z2-7]{24}$", description="The webhook's id")]
DeliveryId = Annotated[str, Path(pattern=r"^[0-9]{13}-[0-9a-f]{12}$", description="The delivery's id")]
PAGE_SIZE = 50
clock: Callable[[], float] = time.time  # tests give their own
_BEFORE = "d"  # cursor tag: the page holds deliveries older than this one


@app.post(
    "/api/webhooks",
    summary="Staff: add a webhook endpoint; its signing secret is shown once, in this answer",
    security=SIGNED_IN,
    responses={
        201: documented("The endpoint with its secret", NewWebhookJson),
        403: FORBIDDEN,
        409: {"description": "The most webhooks a shop may have exist already"},
    },
)
def create(webhook: Annotated[NewWebhook, Body()]) -> Response[str]:
    return json_response(201, add(webhook.url, list(webhook.events), webhook.description, clock()))


@app.get(
    "/api/webhooks",
    summary="Staff: every webhook endpoint (at most 50), oldest first",
    security=SIGNED_IN,
    responses={200: documented("The endpoints", list[WebhookJson]), 403: FORBIDDEN},
)
def list_webhooks() -> Response[str]:
    return json_response(200, listed())


@app.get(
    "/api/webhooks/<webhook_id>",
    summary="Staff: one webhook endpoint and its status",
    security=SIGNED_IN,
    responses={200: documented("The endpoint", WebhookJson), 403: FORBIDDEN, 404: UNKNOWN},
)
def read_webhook(webhook_id: WebhookId) -> Response[str]:
    return json_response(200, shown(webhook_id))


@app.patch(
    "/api/webhooks/<webhook_id>",
    summary="Staff: change a webhook's URL, events or description, or disable and enable it",
    security=SIGNED_IN,
    responses={200: documented("The endpoint as saved", WebhookJson), 403: FORBIDDEN, 404: UNKNOWN},
)
def edit(webhook_id: WebhookId, changes: Annotated[WebhookChanges, Body()]) -> Response[str]:
    return json_response(200, change(webhook_id, changes.changes(), clock()))


@app.delete(
    "/api/webhooks/<webhook_id>",
    summary="Staff: delete a webhook endpoint (its pending deliveries are dropped)",
    security=SIGNED_IN,
    responses={204: {"description": "Deleted"}, 403: FORBIDDEN, 404: UNKNOWN},
)
def delete(webhook_id: WebhookId) -> Response[str]:
    remove(webhook_id)
    return Response(status_code=204, body="")


@app.post(
    "/api/webhooks/<webhook_id>/rotate-secret",
    summary="Staff: a new signing secret; for 24 hours deliveries carry signatures with both",
    security=SIGNED_IN,
    responses={200: documented("The new secret, shown once", RotatedSecretJson), 403: FORBIDDEN, 404: UNKNOWN},
)
def rotate_secret(webhook_id: WebhookId) -> Response[str]:
    return json_response(200, rotate(webhook_id, clock()))


def _cursor_of(delivery_id: str) -> str:
    milliseconds, digest = delivery_id.split("-")
    return encode_cursor(_BEFORE, int(milliseconds), int(digest, 16))


def _delivery_of(cursor: str) -> str:
    _, (milliseconds, digest) = decode_cursor_numbers(cursor, _BEFORE, counts=(2,))
    return f"{milliseconds:013d}-{digest:012x}"


@app.get(
    "/api/webhooks/<webhook_id>/deliveries",
    summary="Staff: the endpoint's latest deliveries, newest first: event, attempts, last status and latency, next retry",
    description='Older ones behind a `Link: <...>; rel="next"` header. Deliveries are kept 30 days.',
    security=SIGNED_IN,
    responses={200: documented("The deliveries", list[DeliveryJson]), 403: FORBIDDEN, 404: UNKNOWN},
)
def list_deliveries(
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=100, description="Deliveries per page")] = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Response[str]:
    page, more = deliveries(webhook_id, limit, _delivery_of(cursor) if cursor else None)
    headers = None
    if more and page:
        next_url = absolute_url(app.current_event, {"limit": limit, "cursor": _cursor_of(page[-1].id)})
        headers = {"Link": f'<{next_url}>; rel="next"'}
    return json_response(200, [delivery.to_json() for delivery in page], headers)


@app.post(
    "/api/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver",
    summary="Staff: send a delivery again now, with the same webhook-id",
    security=SIGNED_IN,
    responses={
        202: documented("Queued: the delivery as it now stands", DeliveryJson),
        403: FORBIDDEN,
        404: {"description": "No such webhook or delivery"},
        409: {"description": "The webhook is disabled"},
    },
)
def send_again(webhook_id: WebhookId, delivery_id: DeliveryId) -> Response[str]:
    return json_response(202, redeliver(webhook_id, delivery_id).to_json())


# Every route is for staff, checked before the body is parsed: anonymous 401, customer 403.
lambda_handler = staff_handler(app, logger)
