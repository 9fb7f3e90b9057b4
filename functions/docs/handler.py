"""GET /api/docs, /api/docs/{file} and /api/openapi.json: the API's documentation page (Swagger UI)
and the document it shows, served as static files from this folder's `assets/`. Also the HTTP
API's `$default` route, every request no other route takes: `GET /` points to the docs, a known
path with another method is a 405 with `Allow` (the methods the document lists for it), and
anything else a 404, each with a JSON `detail` like every other error of the API.

Nothing here generates OpenAPI, and of the layer only its standard-library header accessor is
imported: the document is generated before deploying (`make openapi`) and shipped as a file, so
this function's cold start is Python's own and no other function pays anything for it.
`assets/` is assembled by this folder's Makefile (`sam build`, and `make run` for the working
tree), every file gzipped: Swagger UI's bundle is 1.5 MB, 0.4 MB gzipped. Clients that accept
gzip (every browser) get the files as stored; others, decompressed.
"""

# Modules Python has loaded already (os, functools), two C modules and the layer's header
# accessor (standard library only): all this file adds to a cold start (no pathlib, dataclasses,
# gzip, base64 or hashlib, each milliseconds of imports).
import binascii
import os
import zlib
from functools import cache

from shop_common.headers import header

JSON = dict[str, object]
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
# What each route serves: (gzipped file in ASSETS, content type). Nothing else is reachable.
PAGE = ("index.html.gz", "text/html; charset=utf-8")
DOCUMENT = ("openapi.json.gz", "application/json")
PAGE_FILES = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js.gz", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css.gz", "text/css; charset=utf-8"),
    "docs.js": ("docs.js.gz", "text/javascript; charset=utf-8"),
}
# Short: the page, the document and Swagger UI change with a deploy under the same names; the
# ETag makes a revalidation cost a 304 without a body.
CACHE_CONTROL = "public, max-age=300"
# The page runs only its own scripts; Swagger UI sets inline styles and shows inline images.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@cache
def load(name: str) -> tuple[bytes, str]:
    """One gzipped file of ASSETS, read once per container, and its ETag: the gzip trailer (the
    content's CRC-32 and length), which changes with the content at no cost."""
    with open(os.path.join(ASSETS, name), "rb") as file:
        compressed = file.read()
    return compressed, f'"{compressed[-8:].hex()}"'


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110: `gzip;q=0` refuses it, and an
    explicit gzip or x-gzip entry wins over `*`)."""
    qualities: dict[str, float] = {}
    for entry in accept_encoding.lower().split(","):
        coding, *parameters = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[coding] = quality
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


def not_found() -> JSON:
    return {
        "statusCode": 404,
        "headers": {"Content-Type": "application/json"},
        "body": '{"detail": "No such file of the documentation page."}',
    }


def respond(name: str, content_type: str, headers: object) -> JSON:
    compressed, etag = load(name)
    response_headers = {
        "Content-Type": content_type,
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if content_type.startswith("text/html"):
        response_headers["Content-Security-Policy"] = PAGE_POLICY
    if etag in (tag.strip() for tag in (header(headers, "If-None-Match") or "").split(",")):
        return {"statusCode": 304, "headers": response_headers}
    if accepts_gzip(header(headers, "Accept-Encoding") or ""):
        response_headers["Content-Encoding"] = "gzip"
        body = binascii.b2a_base64(compressed, newline=False).decode()
        return {"statusCode": 200, "headers": response_headers, "body": body, "isBase64Encoded": True}
    text = zlib.decompress(compressed, wbits=31).decode("utf-8")  # 31: a gzip stream
    return {"statusCode": 200, "headers": response_headers, "body": text, "isBase64Encoded": False}


# This function's own routes (template.yaml), which the OpenAPI document does not list.
OWN_ROUTES = {"/api/docs": ("GET",), "/api/docs/{file}": ("GET",), "/api/openapi.json": ("GET",)}
HOME: JSON = {
    "detail": "The shop API. Its documentation is at /api/docs, its OpenAPI document at /api/openapi.json.",
    "docs": "/api/docs",
    "openapi": "/api/openapi.json",
}


def json_answer(status: int, body: JSON, headers: dict[str, str] | None = None) -> JSON:
    import json  # only this route writes JSON: the pages' cold start does not pay for it

    return {"statusCode": status, "headers": {"Content-Type": "application/json", **(headers or {})}, "body": json.dumps(body)}


@cache
def known_routes() -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """Every route of the API as (path segments, methods): the OpenAPI document's operations
    (a test holds them equal to template.yaml's routes) and this function's own."""
    import json

    document = json.loads(zlib.decompress(load(DOCUMENT[0])[0], wbits=31))
    routes = {path: tuple(method.upper() for method in operations) for path, operations in document["paths"].items()}
    routes.update(OWN_ROUTES)
    return tuple((tuple(path.split("/")), methods) for path, methods in routes.items())


def methods_allowed(path: str) -> list[str]:
    """The methods of the routes whose path template matches `path` (`{name}`: one segment)."""
    segments = path.split("/")
    allowed: set[str] = set()
    for template, methods in known_routes():
        if len(template) == len(segments) and all(
            part == segment or (part.startswith("{") and part.endswith("}") and segment)
            for part, segment in zip(template, segments, strict=True)
        ):
            allowed.update(methods)
    return sorted(allowed)


def unrouted(event: JSON) -> JSON:
    """The answer for a request no route took (API Gateway's `$default` route)."""
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    method = str(http.get("method", "GET")).upper() if isinstance(http, dict) else "GET"
    path = str(event.get("rawPath") or "/")
    if path == "/":
        if method in ("GET", "HEAD"):
            return json_answer(200, HOME)
        return json_answer(405, {"detail": f'Method "{method}" not allowed.'}, {"Allow": "GET"})
    allowed = methods_allowed(path)
    if not allowed:
        return json_answer(404, {"detail": "Not found."})
    return json_answer(405, {"detail": f'Method "{method}" not allowed.'}, {"Allow": ", ".join(allowed)})


def lambda_handler(event: JSON, context: object) -> JSON:
    route = event.get("routeKey")
    if route not in ("GET /api/docs", "GET /api/openapi.json", "GET /api/docs/{file}"):
        return unrouted(event)
    parameters = event.get("pathParameters")
    file = parameters.get("file") if isinstance(parameters, dict) else None
    if route == "GET /api/docs":
        name, content_type = PAGE
    elif route == "GET /api/openapi.json":
        name, content_type = DOCUMENT
    elif route == "GET /api/docs/{file}" and file in PAGE_FILES:
        name, content_type = PAGE_FILES[file]
    else:
        return not_found()
    return respond(name, content_type, event.get("headers"))
