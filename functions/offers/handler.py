"""Lambda handler for special offers: anyone GET /api/offers (the current ones; staff add
`?all=true` for every offer); staff POST /api/offers, PATCH and DELETE /api/offers/{offer_id}.
HTTP in and out, nothing else."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import TypeAdapter, ValidationError

from offers.admin import add, change, current_offers, remove, staff_page
from offers.models import OfferChanges, OfferJson, offer_json
from shop_common.api import CursorQuery, absolute_url, documented, json_response
from shop_common.errors import InvalidRequest
from shop_common.offers import OfferTerms
from shop_common.signed_in import SIGNED_IN
from shop_common.staff_api import FORBIDDEN, staff_function, staff_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

logger, app = staff_function()
UNKNOWN: "OpenAPIResponse" = {"description": "No offer with that id (or it was deleted)"}
OfferId = Annotated[int, Path(ge=1, lt=2**53, description="The offer's id")]
STAFF_PAGE_SIZE = 100
_BOOLEAN = TypeAdapter(bool)


@app.get(
    "/api/offers",
    summary="The offers anyone can use now, in the order they apply; staff: `?all=true` for every offer",
    description="Without `all`: public, the offers whose window is open and whose overall limit is not reached, "
    "as orders see them (read at most 30 s ago). With `all=true` (staff, with a bearer token): every offer not "
    "deleted, ended and scheduled ones too, the latest to end first, in pages; the next page behind a "
    '`Link: <...>; rel="next"` header.',
    responses={
        200: documented("The offers", list[OfferJson]),
        401: {"description": "`all=true` without a valid access token"},
        403: FORBIDDEN,
    },
)
def list_offers(
    show_all: Annotated[bool, Query(alias="all", description="Staff: every offer, not only the current ones")] = False,
    limit: Annotated[int | None, Query(ge=1, le=STAFF_PAGE_SIZE, description="With `all=true`: offers per page")] = None,
    cursor: CursorQuery = None,
) -> Response[str]:
    now = datetime.now(UTC)
    if not show_all:
        for name, value in (("limit", limit), ("cursor", cursor)):
            if value is not None:
                raise InvalidRequest("Invalid request.", errors=[{"field": name, "message": "Only with all=true."}])
        return json_response(200, [offer_json(offer) for offer in current_offers(now)])
    page_size = limit or STAFF_PAGE_SIZE
    offers, next_cursor = staff_page(page_size, cursor)  # the caller was checked before routing
    headers = None
    if next_cursor:
        next_url = absolute_url(app.current_event, {"all": "true", "limit": page_size, "cursor": next_cursor})
        headers = {"Link": f'<{next_url}>; rel="next"'}
    return json_response(200, [offer_json(offer) for offer in offers], headers)


@app.post(
    "/api/offers",
    summary="Staff: add an offer (docs/offers.md has the rules of each kind)",
    security=SIGNED_IN,
    responses={
        201: documented("The offer, with its new id", OfferJson),
        403: FORBIDDEN,
        409: {"description": "The most offers running or scheduled at once are already there; nothing was written"},
    },
)
def create(terms: Annotated[OfferTerms, Body()]) -> Response[str]:
    return json_response(201, offer_json(add(terms, datetime.now(UTC))))


@app.patch(
    "/api/offers/<offer_id>",
    summary="Staff: change an offer's terms (not its kind; `null` removes an optional term)",
    security=SIGNED_IN,
    responses={
        200: documented("The offer as saved, with its new version", OfferJson),
        403: FORBIDDEN,
        404: UNKNOWN,
        409: {"description": "Too many offers running or scheduled, or the offers kept changing; nothing was written"},
    },
)
def edit(offer_id: OfferId, changes: OfferChanges) -> Response[str]:
    return json_response(200, offer_json(change(offer_id, changes.changes(), datetime.now(UTC))))


@app.delete(
    "/api/offers/<offer_id>",
    summary="Staff: delete an offer (orders that used it keep it; cancelling them still gives the use back)",
    security=SIGNED_IN,
    responses={204: {"description": "Deleted"}, 403: FORBIDDEN, 404: UNKNOWN},
)
def delete(offer_id: OfferId) -> Response[str]:
    remove(offer_id, datetime.now(UTC))
    return Response(status_code=204, body="")


def _public_read(event: dict[str, Any]) -> bool:
    """A GET without `all` set to true (read as the route reads it, pydantic's boolean)."""
    if (event.get("requestContext") or {}).get("http", {}).get("method") != "GET":
        return False
    show_all = (event.get("queryStringParameters") or {}).get("all")
    if show_all is None:
        return True
    try:
        return not _BOOLEAN.validate_python(show_all)
    except ValidationError:
        return True  # the route answers 400 for it


# Reading the current offers is public; staff's `all=true` and every write are for staff,
# checked before any parameter or body is parsed, as for the catalogue: anonymous 401, customer 403.
lambda_handler = staff_handler(app, logger, public=_public_read)
