"""API Gateway HTTP API events (payload format 2.0), as API Gateway hands them to Lambda."""

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from shop_common.headers import header

# shop_common.api.LOCAL_ORIGIN_KEY (not imported: shop_common.api loads powertools): where the
# local gateway is reached, e.g. "http://127.0.0.1:3000", for the links handlers build. API
# Gateway never sends it; nothing a client sends can set it.
LOCAL_ORIGIN_KEY = "shoplocalOrigin"

# How header names reach the function: "lower", as API Gateway passes them; "as sent", as
# `sam local start-api` does (the client's own spelling).
HeaderNames = Literal["lower", "as sent"]


def http_api_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    query_string: str = "",
    body: str | bytes | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    stage: str = "$default",
    local_origin: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    header_names: HeaderNames = "lower",
) -> dict[str, Any]:
    """The event for one request. Header names are lower-cased (unless `header_names` is "as
    sent") and repeated query parameters joined with commas, as API Gateway does; a bytes body
    is sent base64-encoded.

    `domain_name` is the API's own domain (API Gateway's `domainName`: the domain it was called
    on, never the client's Host header). A named `stage` is the first segment of `rawPath`, as
    on the execute-api domain; `$default` is served at the root."""
    names = dict(headers or {})
    if header_names == "lower":
        names = {name.lower(): value for name, value in names.items()}
    if header(names, "Host") is None:
        names["host"] = domain_name
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    query: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": raw_path,
        "rawQueryString": query_string,
        "headers": names,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header(names, "User-Agent") or "",
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key or f"{method.upper()} {path}",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": isinstance(body, bytes),
    }
    if local_origin:
        event["requestContext"][LOCAL_ORIGIN_KEY] = local_origin
    cookies = header(names, "Cookie")
    if cookies is not None:
        event["cookies"] = [cookie.strip() for cookie in cookies.split(";")]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    return event
