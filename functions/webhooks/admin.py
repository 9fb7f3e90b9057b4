"""The staff webhooks API's rules, independent of HTTP: endpoints (with the SSRF guard on their
URLs), secrets and their rotation, and the deliveries staff can see and send again."""

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from shop_common import webhook_queue
from shop_common.errors import Conflict, InvalidRequest, NotFound
from shop_common.webhook_items import MAX_ENDPOINTS, SECRET_OVERLAP_SECONDS, Delivery, Endpoint, delivery_message
from shop_common.webhook_urls import BlockedDestination, Resolver, UrlPolicy, checked_addresses, resolve
from webhooks.store import (
    TooManyEndpoints,
    all_endpoints,
    delete_endpoint,
    delivery_page,
    insert_endpoint,
    read_endpoint,
    restart_delivery,
    rotate_secret,
    update_endpoint,
)

logger = Logger(child=True)

resolver: Resolver = resolve  # where host names are looked up (tests give their own)
SECRET_BYTES = 32


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "status": endpoint.status,
        "failing_since": _iso(endpoint.failing_since) if endpoint.failing_since is not None else None,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "created": endpoint.created,
    }


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _checked_url(url: str) -> str:
    """The URL if a webhook may be sent there now (its form, and every address its host
    resolves to); a 400 naming `url` otherwise. The sender checks again at each delivery."""
    from urllib.parse import urlsplit

    policy = UrlPolicy.from_environment()
    problem = policy.url_problem(url)
    if problem is None:
        parts = urlsplit(url)
        try:
            checked_addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), policy, resolver)
        except BlockedDestination as blocked:
            problem = f"Not a public address: {blocked}."
    if problem:
        raise InvalidRequest("Invalid request.", errors=[{"field": "url", "message": problem}])
    return url


def _not_found(endpoint_id: str) -> NotFound:
    return NotFound("Not found.", errors=[{"field": "webhook_id", "message": f"No webhook with id {endpoint_id}."}])


def add(url: str, events: list[str], description: str, now: float) -> dict[str, Any]:
    endpoint_id = "wh_" + base64.b32encode(secrets.token_bytes(15)).decode().lower()
    values = {
        "id": endpoint_id,
        "url": _checked_url(url),
        "events": list(dict.fromkeys(events)),
        "description": description,
        "enabled": True,
        "created": _iso(now),
    }
    secret = new_secret()
    try:
        insert_endpoint(values, secret)
    except TooManyEndpoints as error:
        raise Conflict(f"At most {MAX_ENDPOINTS} webhooks; delete one first.", code="too_many_webhooks") from error
    logger.info("Webhook added", extra={"webhook_id": endpoint_id, "events": values["events"]})
    endpoint = read_endpoint(endpoint_id)
    assert endpoint is not None
    return {**endpoint_json(endpoint), "secret": secret}


def listed() -> list[dict[str, Any]]:
    return [endpoint_json(endpoint) for endpoint in all_endpoints()]


def shown(endpoint_id: str) -> dict[str, Any]:
    endpoint = read_endpoint(endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint_json(endpoint)


def change(endpoint_id: str, changes: dict[str, Any], now: float) -> dict[str, Any]:
    values: dict[str, Any] = {}
    removed: tuple[str, ...] = ()
    if "url" in changes:
        values["url"] = _checked_url(changes["url"])
    if "events" in changes:
        values["events"] = list(dict.fromkeys(changes["events"]))
    if "description" in changes:
        values["description"] = changes["description"]
    if changes.get("enabled") is True:
        # Enabled again: deliveries start afresh, the failure that disabled it forgotten.
        values["enabled"] = True
        removed = ("failing_since", "disabled_at", "disabled_reason")
    elif changes.get("enabled") is False:
        values |= {"enabled": False, "disabled_at": _iso(now), "disabled_reason": "disabled by staff"}
    if not values:
        return shown(endpoint_id)
    endpoint = update_endpoint(endpoint_id, values, removed)
    if endpoint is None:
        raise _not_found(endpoint_id)
    logger.info("Webhook changed", extra={"webhook_id": endpoint_id, "fields": sorted(changes)})
    return endpoint_json(endpoint)


def remove(endpoint_id: str) -> None:
    if not delete_endpoint(endpoint_id):
        raise _not_found(endpoint_id)
    logger.info("Webhook deleted", extra={"webhook_id": endpoint_id})


def rotate(endpoint_id: str, now: float) -> dict[str, Any]:
    secret = new_secret()
    expires = int(now) + SECRET_OVERLAP_SECONDS
    if not rotate_secret(endpoint_id, secret, expires):
        raise _not_found(endpoint_id)
    logger.info("Webhook secret rotated", extra={"webhook_id": endpoint_id})
    return {"secret": secret, "previous_secret_expires_at": _iso(expires)}


def deliveries(endpoint_id: str, limit: int, before: str | None) -> tuple[list[Delivery], bool]:
    if read_endpoint(endpoint_id) is None:
        raise _not_found(endpoint_id)
    return delivery_page(endpoint_id, limit, before)


def redeliver(endpoint_id: str, delivery_id: str) -> Delivery:
    """One more attempt of the delivery, now, with the same `webhook-id` (the event's id)."""
    endpoint = read_endpoint(endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first (PATCH enabled=true).", code="webhook_disabled")
    token = secrets.token_hex(8)
    delivery = restart_delivery(endpoint_id, delivery_id, token)
    if delivery is None:
        raise NotFound("Not found.", errors=[{"field": "delivery_id", "message": f"No delivery {delivery_id} of this webhook."}])
    webhook_queue.send([delivery_message(endpoint_id, delivery_id, token)])
    logger.info("Delivery queued again", extra={"webhook_id": endpoint_id, "delivery_id": delivery_id})
    return delivery
