"""JSON Schemas of the domain events (docs/events/<type>.json), derived from docs/openapi.json.

Each event's `data` is what an API operation answers (the order of `GET /api/orders/{id}`, the
product of `GET /api/products/{id}`, the profile of `POST /api/register`), so its schema is that
answer's schema in the OpenAPI document, with the components it refers to: when the API's shapes
change, regenerating both keeps them together (`make openapi`), and a test holds the events the
function emits to these schemas.

    python -m shoplocal.event_schemas   # writes docs/events/*.json from docs/openapi.json
"""

import copy
import json
import re
from pathlib import Path
from typing import Any

from shoplocal.template import PROJECT_ROOT

OPENAPI = PROJECT_ROOT / "docs" / "openapi.json"
FOLDER = PROJECT_ROOT / "docs" / "events"

ORDER = ("/api/orders/{order_id}", "get", "200")
PRODUCT = ("/api/products/{product_id}", "get", "200")
USER = ("/api/register", "post", "201")
# Each event type: the operation whose answer its data is, and what the event says of it.
EVENTS: dict[str, tuple[tuple[str, str, str], str]] = {
    "order.placed": (ORDER, "An order was placed: the order as `GET /api/orders/{id}` shows it."),
    "order.cancelled": (ORDER, "An order was cancelled (status `cancelled`): the order as `GET /api/orders/{id}` shows it."),
    "product.sold_out": (PRODUCT, "A product's stock reached 0: the product as `GET /api/products/{id}` shows it."),
    "product.back_in_stock": (
        PRODUCT,
        "A sold-out product's stock rose above 0: the product as `GET /api/products/{id}` shows it.",
    ),
    "product.price_changed": (
        PRODUCT,
        "A product's price changed: the product as `GET /api/products/{id}` shows it, and `previous_price`.",
    ),
    "user.registered": (USER, "An account was created: the profile as `POST /api/register` answers it."),
}
_REF = re.compile(r"#/components/schemas/([A-Za-z0-9_]+)")


def _referenced(schema: Any, components: dict[str, Any], found: dict[str, Any]) -> None:
    for name in _REF.findall(json.dumps(schema)):
        if name not in found:
            found[name] = components[name]
            _referenced(components[name], components, found)


def _local_refs(schema: Any) -> Any:
    return json.loads(_REF.sub(r"#/$defs/\1", json.dumps(schema)))


def event_schema(event_type: str, document: dict[str, Any]) -> dict[str, Any]:
    (path, method, status), description = EVENTS[event_type]
    data = document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    definitions: dict[str, Any] = {}
    components = document["components"]["schemas"]
    _referenced(data, components, definitions)
    if event_type == "product.price_changed":
        (product,) = _REF.findall(json.dumps(data))
        previous = copy.deepcopy(components[product]["properties"]["price"]) | {"title": "Previous Price"}
        data = {"allOf": [data, {"type": "object", "required": ["previous_price"], "properties": {"previous_price": previous}}]}
    schema: dict[str, Any] = _local_refs(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": event_type,
            "description": description,
            "type": "object",
            "required": ["id", "type", "time", "data"],
            "properties": {
                "id": {
                    "type": "string",
                    "pattern": "^evt_[a-z2-7]{26}$",
                    "description": "The same for every delivery of this event",
                },
                "type": {"const": event_type},
                "time": {"type": "string", "format": "date-time", "description": "When the change was made (UTC)"},
                "data": data,
            },
            "$defs": dict(sorted(definitions.items())),
        }
    )
    return schema


def render_all(document: dict[str, Any] | None = None) -> dict[str, str]:
    """File name -> text of every event's schema."""
    document = document or json.loads(OPENAPI.read_text())
    return {
        f"{event_type}.json": json.dumps(event_schema(event_type, document), indent=2, sort_keys=True) + "\n"
        for event_type in EVENTS
    }


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, text in render_all().items():
        Path(FOLDER / name).write_text(text)
        print(f"wrote docs/events/{name}")


if __name__ == "__main__":
    main()
