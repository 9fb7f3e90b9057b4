"""A local stand-in for API Gateway's HTTP API: it reads the routes, functions and environment
from `template.yaml`, turns each request into the payload-format-2.0 event of the matching
route, runs the real handler in-process, and answers as API Gateway would.
"""

import base64
import json
import logging
import os
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shop_common.headers import header
from shoplocal.gateway.containers import Invoker, containers_for, forget_modules_under
from shoplocal.gateway.cors import CorsRules
from shoplocal.gateway.events import http_api_event
from shoplocal.gateway.routes import RouteTable
from shoplocal.template import (
    code_paths,
    functions,
    load_template,
    parameter_defaults,
    put_code_on_path,
    resolved_environment,
)

log = logging.getLogger("shoplocal.api")

NOT_FOUND = b'{"message":"Not Found"}'
INTERNAL_ERROR = b'{"message":"Internal Server Error"}'
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class GatewayRequest:
    method: str
    path: str
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    # Where clients reach this gateway: API Gateway knows its own domain (`domainName`) and
    # serves HTTPS; locally the origin is the server's address, never the client's Host header.
    server_origin: str = "http://localhost"

    def header_map(self) -> dict[str, str]:
        """Lower-cased names; repeated headers joined with commas, as API Gateway does."""
        joined: dict[str, str] = {}
        for name, value in self.headers:
            key = name.lower()
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        return joined


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    function: str = "-"
    cold_start: bool = False


def _event_body(body: bytes, content_type: str) -> str | bytes | None:
    """Text bodies travel as they are; anything else base64-encoded (`isBase64Encoded`)."""
    if not body:
        return None
    if not content_type or content_type.lower().startswith(_TEXT_TYPES):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return body
    return body


def _response_from_result(result: Any) -> GatewayResponse:
    """API Gateway's reading of a payload-2.0 result: a dict with statusCode is a full response;
    anything else valid JSON is a 200 application/json body."""
    if not isinstance(result, dict) or "statusCode" not in result:
        text = result if isinstance(result, str) else json.dumps(result)
        return GatewayResponse(200, [("content-type", "application/json")], text.encode())
    status = int(result["statusCode"])
    if not 100 <= status <= 599:
        raise ValueError(f"statusCode {status} is not an HTTP status")
    headers = [(str(name).lower(), str(value)) for name, value in (result.get("headers") or {}).items()]
    headers += [("set-cookie", str(cookie)) for cookie in result.get("cookies") or []]
    raw_body = result.get("body") or ""
    body = base64.b64decode(raw_body) if result.get("isBase64Encoded") else str(raw_body).encode()
    return GatewayResponse(status, headers, body)


class LocalGateway:
    """Routes requests to the template's functions. `reload()` re-reads the template and the code."""

    def __init__(self, template_path: Path, refs: Mapping[str, str], overrides: Mapping[str, str]) -> None:
        self.template_path = template_path
        self._refs = dict(refs)
        self._overrides = dict(overrides)
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        load_template.cache_clear()
        template = load_template(self.template_path)
        root = self.template_path.parent
        specs = functions(template, root)
        refs = {name: name for name in template.get("Resources", {})}  # other resources: their logical id
        refs.update(parameter_defaults(template))
        refs.update(self._refs)
        environments = {name: {**resolved_environment(spec, refs), **self._overrides} for name, spec in specs.items()}
        self._apply_shared_environment(environments)
        self.code_folders = code_paths(template, root)
        put_code_on_path(self.code_folders)
        self.specs = specs
        self.routes = RouteTable(specs.values())
        self.cors = CorsRules.from_template(template, refs)
        self.containers = containers_for(specs, environments)

    @staticmethod
    def _apply_shared_environment(environments: Mapping[str, Mapping[str, str]]) -> None:
        """Variables no two functions set differently go into the process environment, where
        handlers read them at call time (so every function sees them); ones that differ, such as
        the service name, are applied per container while its module is imported."""
        values: dict[str, set[str]] = {}
        for environment in environments.values():
            for name, value in environment.items():
                values.setdefault(name, set()).add(value)
        os.environ.update({name: next(iter(found)) for name, found in values.items() if len(found) == 1})

    def reload(self) -> None:
        """New code and template: forget the loaded modules; the next request cold-starts."""
        with self._lock:
            forget_modules_under(self.code_folders)
            self._load()

    def function_names(self) -> list[str]:
        return list(self.specs)

    def handle(self, request: GatewayRequest) -> GatewayResponse:
        headers = request.header_map()
        if self.cors.is_preflight(request.method, headers):
            return GatewayResponse(204, list(self.cors.preflight_headers(headers).items()))
        with self._lock:
            match = self.routes.match(request.method, request.path)
            containers = self.containers
        if match is None:
            response = GatewayResponse(404, [("content-type", "application/json")], NOT_FOUND)
        else:
            event = http_api_event(
                request.method,
                request.path,
                route_key=match.route_key,
                headers=headers,
                query_string=request.query_string,
                body=_event_body(request.body, header(headers, "Content-Type") or ""),
                source_ip=request.source_ip,
                domain_name=urlsplit(request.server_origin).hostname or "localhost",
                local_origin=request.server_origin,
                path_parameters=match.path_parameters,
            )
            response = self._invoke(containers, match.spec.logical_id, event)
        cors_headers = self.cors.response_headers(headers)
        response.headers = [(name, value) for name, value in response.headers if name not in cors_headers]
        response.headers += list(cors_headers.items())
        return response

    @staticmethod
    def _invoke(containers: Invoker, logical_id: str, event: dict[str, Any]) -> GatewayResponse:
        try:
            invocation = containers.invoke(logical_id, event)
            response = _response_from_result(invocation.result)
            response.cold_start = invocation.cold_start
        except Exception:
            # What API Gateway answers when a function fails or returns nonsense; the traceback
            # is what CloudWatch would show for the function.
            log.error("%s failed:\n%s", logical_id, traceback.format_exc().rstrip())
            response = GatewayResponse(500, [("content-type", "application/json")], INTERNAL_ERROR)
        response.function = logical_id
        response.headers.append(("apigw-requestid", event["requestContext"]["requestId"]))
        return response


def log_request(request: GatewayRequest, response: GatewayResponse, seconds: float) -> None:
    """One line per request: method, path, status, duration, function (and cold starts)."""
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    cold = " (cold start)" if response.cold_start else ""
    log.info("%s %s %d %.1f ms %s%s", request.method, target, response.status, seconds * 1000, response.function, cold)
