"""`Idempotency-Key` on POST /api/order and POST /api/orders/{order_id}/cancel, with powertools'
idempotency utility and its records in the shop's table.

A key is scoped to its user and its operation: the record's id hashes the user id with the key
(powertools hashes JSON with sorted keys, and what it hashes is the parsed, validated request,
so whitespace and key order in the body change nothing), under the prefix
`IDEMPOTENCY#<operation>`. The request itself is the record's validation hash: the same key with
another body is a 422. A request that fails (any 4xx or 5xx) leaves no record, so fixing the
request and sending it again with the same key works. Records expire after 24 hours (TTL on
`expires_at`); a request whose Lambda died mid-way frees its key when the invocation's time runs
out (powertools' in-progress expiry, from the Lambda context). The record keeps the response
body as the JSON text first sent (powertools stores data with sorted keys), so a replay is the
same bytes.

Each record is its own partition (`IDEMPOTENCY#<operation>#<hash>`, SK `IDEMPOTENCY`): powertools'
own composite-key layout would put every record of the function in one partition, which would
cap the orders a second that carry a key at one partition's write rate.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shop_common import settings
from shop_common.api import json_text
from shop_common.dynamo import client
from shop_common.errors import Conflict, ShopError

MAX_KEY_LENGTH = 255  # printable ASCII: the route's header parameter validates it (400 otherwise)
LIFETIME_SECONDS = 24 * 3600


class KeyReused(ShopError):
    """The key was used before with another request (422, as Stripe and the IETF draft do)."""

    status_code = 422


@dataclass(frozen=True)
class Outcome:
    # The response body as JSON text (shop_common.api.json_text), stored and replayed byte for
    # byte (money stays exact JSON numbers); a dict when replayed from a record written before.
    body: str | dict[str, Any]
    replayed: bool


def _first_text(stored: Any) -> str:
    """The body's text from a record's data: `{"text": ...}`; records written before the text
    was kept hold the body itself (then its keys come back sorted)."""
    if isinstance(stored, dict) and set(stored) == {"text"} and isinstance(stored["text"], str):
        return stored["text"]
    return json_text(stored)


_invocation: list[LambdaContext] = []  # the current invocation's context, for the record's expiry


def register_context(context: LambdaContext) -> None:
    """Lets a request's record expire with its invocation if the function dies mid-way."""
    _invocation[:] = [context]


# powertools' idempotency utility imports boto3 (~110 ms): it is loaded by the first request
# that carries a key, not by every cold start.


@cache
def _config() -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    def replayed(response: Any, idempotent_data: Any) -> Any:
        return Outcome(_first_text(response), replayed=True)

    return IdempotencyConfig(
        event_key_jmespath="[user, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=LIFETIME_SECONDS,
        response_hook=replayed,
    )


@cache
def _idempotent(operation: str, dynamodb: Any) -> Callable[..., Any]:
    """The idempotent runner of one operation, on the container's DynamoDB client of the moment:
    keyed by the client, so a client made anew (after a SnapStart restore) is the one used."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function

    class RecordsInTheShopTable(DynamoDBPersistenceLayer):
        def _get_key(self, idempotency_key: str) -> dict[str, Any]:
            return {"PK": {"S": idempotency_key}, "SK": {"S": "IDEMPOTENCY"}}

    # Built at first use, with the function's one DynamoDB client (no second client).
    store = RecordsInTheShopTable(
        table_name=settings.table_name(), key_attr="PK", expiry_attr="expires_at", boto3_client=dynamodb
    )

    def run(payload: dict[str, Any], work: Callable[[], str]) -> Any:
        return work()

    decorated: Callable[..., Any] = idempotent_function(
        run, data_keyword_argument="payload", config=_config(), persistence_store=store, key_prefix=f"IDEMPOTENCY#{operation}"
    )
    return decorated


def once(operation: str, user_id: int, key: str | None, request: Any, work: Callable[[], str]) -> Outcome:
    """Run `work` (which answers the response body) once per user and key; a repeat of the same
    request answers the first response, replayed."""
    if key is None:
        return Outcome(work(), replayed=False)
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if _invocation:
        _config().register_lambda_context(_invocation[0])
    payload = {"user": user_id, "key": key, "request": request}
    try:
        result = _idempotent(operation, client())(payload=payload, work=lambda: {"text": work()})
    except IdempotencyValidationError as reused:
        raise KeyReused(
            "This Idempotency-Key was already used with another request.",
            code="idempotency_key_reused",
            errors=[{"field": "Idempotency-Key", "message": "Use a new key for a different request."}],
        ) from reused
    except IdempotencyAlreadyInProgressError as busy:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.", code="request_in_progress"
        ) from busy
    return result if isinstance(result, Outcome) else Outcome(_first_text(result), replayed=False)
