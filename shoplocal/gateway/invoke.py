"""Call the real Lambda handlers in-process, routed by the HttpApi events in `template.yaml`."""

import importlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shoplocal.gateway.events import HeaderNames, http_api_event
from shoplocal.gateway.routes import RouteTable
from shoplocal.template import FunctionSpec, functions

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def load_handler(spec: FunctionSpec) -> Handler:
    handler: Handler = getattr(importlib.import_module(spec.module), spec.function_name)
    return handler


class LocalApi:
    """Routes a request to the function whose template route matches, as API Gateway would
    (or, with `header_names="as sent"`, with the header names as the client wrote them, as
    `sam local start-api` passes them)."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None, header_names: HeaderNames = "lower") -> None:
        self.specs = functions()
        self.routes = RouteTable(self.specs.values())
        self._handlers = dict(handlers or {})
        self._header_names: HeaderNames = header_names

    def function_for(self, method: str, path: str) -> FunctionSpec | None:
        match = self.routes.match(method, path)
        return match.spec if match else None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query_string: str = "",
    ) -> ApiResponse:
        match = self.routes.match(method, path)
        if match is None:
            return ApiResponse(404, {"content-type": "application/json"}, '{"message":"Not Found"}')
        spec = match.spec
        if json_body is not None:
            body = json.dumps(json_body)
        event = http_api_event(
            method,
            path,
            route_key=match.route_key,
            headers=headers,
            query_string=query_string,
            body=body,
            path_parameters=match.path_parameters,
            header_names=self._header_names,
        )
        handler = self._handlers.get(spec.logical_id) or load_handler(spec)
        result = handler(event, LambdaContext(spec.logical_id))
        response_headers = {name.lower(): value for name, value in (result.get("headers") or {}).items()}
        return ApiResponse(int(result["statusCode"]), response_headers, result.get("body") or "")
