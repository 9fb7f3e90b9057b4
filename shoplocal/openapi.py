"""The API's OpenAPI document, generated from the handlers' routes and pydantic models.

Each function's resolver describes its own routes; this merges them and states what the shared
HTTP glue does for all of them (400 instead of powertools' 422, the error body, bearer auth).
Generated here, at build time, so no function pays for OpenAPI at cold start.

    python -m shoplocal.openapi > docs/openapi.json
"""

import importlib
import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from shoplocal.template import functions, put_code_on_path

BEARER = {"bearerAuth": HTTPBearer(bearerFormat="JWT", description="An access token from POST /api/auth or /api/refresh.")}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "What went wrong, for programs."},
        "errors": {
            "type": "array",
            "description": "The offending fields (400 only).",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def build() -> dict[str, Any]:
    put_code_on_path()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Serverless shop API", "version": "1.0.0"},
        "paths": {},
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }
    for spec in functions().values():
        app = importlib.import_module(spec.module).app
        schema = app.get_openapi_schema(security_schemes=BEARER).model_dump(mode="json", by_alias=True, exclude_none=True)
        document["paths"].update(schema.get("paths", {}))
        for section, entries in schema.get("components", {}).items():
            document["components"].setdefault(section, {}).update(entries)
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["400"] = {"description": "Invalid request: the offending fields are listed in `errors`."}
            if operation.get("security"):
                responses["401"] = {"description": "Missing, invalid or expired access token."}
            responses["500"] = {"description": "A bug: the details are in the function's log, under the request id."}
            for status, response in responses.items():
                if int(status) >= 400:
                    response.update(_error(response["description"]))
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):  # powertools' own, never sent
        document["components"]["schemas"].pop(name, None)
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
