"""docs/events/*.json: current with docs/openapi.json, and every event the events function emits
is valid against its type's schema."""

import json
from decimal import Decimal
from typing import Any

import jsonschema_rs

from event_pipeline import Pipeline
from shop_common.catalog import add_products
from shop_common.models import NewProduct
from shoplocal.event_schemas import EVENTS, FOLDER, render_all
from shoplocal.gateway.invoke import LocalApi


def test_the_committed_schemas_are_current() -> None:
    for name, text in render_all().items():
        assert (FOLDER / name).read_text() == text, f"docs/events/{name} is stale: run `make openapi`"
    assert {path.name for path in FOLDER.glob("*.json")} == set(render_all())


def test_every_event_type_emitted_is_valid_against_its_schema(api: LocalApi, signed_in: Any, events_pipeline: Pipeline) -> None:
    (lamp,) = add_products([NewProduct(name="Lamp", price=Decimal("20.00"), quantity=1, sku="L-1")])
    _, customer = signed_in()
    _, staff = signed_in(is_staff=True)
    placed = api.request(
        "POST", "/api/order", json_body={"parts": [{"product": lamp.id, "quantity_in_order": 1}]}, headers=customer
    )
    api.request("POST", f"/api/orders/{placed.json()['id']}/cancel", headers=customer)
    api.request("PATCH", f"/api/products/{lamp.id}", json_body={"price": "18.50"}, headers=staff)
    api.request(
        "POST", "/api/register", json_body={"username": "ivy", "password": "a fine passphrase", "email": "ivy@example.com"}
    )
    events_pipeline.publish()
    emitted = events_pipeline.bus_events()
    assert {event["type"] for event in emitted} == set(EVENTS)
    validators = {
        name.removesuffix(".json"): jsonschema_rs.validator_for(json.loads(text)) for name, text in render_all().items()
    }
    for event in emitted:
        errors = [error.message for error in validators[event["type"]].iter_errors(event)]
        assert not errors, (event["type"], errors)
    invalid = {**emitted[0], "data": {"id": "not a number"}}
    assert not validators[emitted[0]["type"]].is_valid(invalid)
