"""The documentation page's function (functions/docs): static files only, gzipped for browsers,
plain for other clients, nothing else reachable, no permissions, nothing but the standard
library at cold start."""

import base64
import gzip
import importlib.resources
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docs import handler as docs_handler
from shoplocal.gateway.events import HeaderNames, http_api_event
from shoplocal.template import PROJECT_ROOT, functions, load_template

DOCS = PROJECT_ROOT / "functions" / "docs"
MAKE = shutil.which("make") or "make"
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
GZIP = {"accept-encoding": "gzip, deflate, br"}


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """assets/ as the function's Makefile assembles it (for `sam build` too), from the current
    docs/openapi.json and the installed Swagger UI package."""
    out = tmp_path_factory.mktemp("docs") / "assets"
    command = [MAKE, "--no-print-directory", "-f", str(DOCS / "Makefile"), "assets", f"PYTHON={sys.executable}", f"OUT={out}"]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, timeout=300)
    return out


@pytest.fixture(autouse=True)
def serving(assets: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(docs_handler, "ASSETS", str(assets))
    docs_handler.load.cache_clear()
    docs_handler.known_routes.cache_clear()
    yield
    docs_handler.load.cache_clear()
    docs_handler.known_routes.cache_clear()


def get(
    route: str, file: str | None = None, headers: dict[str, str] | None = None, header_names: HeaderNames = "lower"
) -> dict[str, Any]:
    path = route.split(" ", 1)[1].replace("{file}", file or "")
    parameters = {"file": file} if file is not None else None
    event = http_api_event("GET", path, route_key=route, headers=headers, path_parameters=parameters, header_names=header_names)
    return docs_handler.lambda_handler(event, None)


def body_bytes(response: dict[str, Any]) -> bytes:
    """The body as the client receives it, decoded from gzip when it was sent gzipped."""
    raw = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"].encode()
    return gzip.decompress(raw) if response["headers"].get("Content-Encoding") == "gzip" else raw


def swagger_ui_file(name: str) -> bytes:
    """A file of the installed Swagger UI package (swagger-ui-bundle-v2: vendor/swagger-ui-<version>/)."""
    (release,) = Path(str(importlib.resources.files("swagger_ui_bundle"))).glob("vendor/swagger-ui-*")
    return (release / name).read_bytes()


def test_the_document_is_the_generated_one_plain_for_clients_without_gzip() -> None:
    response = get("GET /api/openapi.json")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert "Content-Encoding" not in response["headers"]
    assert response["isBase64Encoded"] is False
    assert response["body"] == (PROJECT_ROOT / "docs" / "openapi.json").read_text()


def test_browsers_get_every_file_gzipped() -> None:
    expected = {
        ("GET /api/docs", None): (DOCS / "index.html").read_bytes(),
        ("GET /api/openapi.json", None): (PROJECT_ROOT / "docs" / "openapi.json").read_bytes(),
        ("GET /api/docs/{file}", "docs.js"): (DOCS / "docs.js").read_bytes(),
        ("GET /api/docs/{file}", "swagger-ui-bundle.js"): swagger_ui_file("swagger-ui-bundle.js"),
        ("GET /api/docs/{file}", "swagger-ui.css"): swagger_ui_file("swagger-ui.css"),
    }
    for (route, file), content in expected.items():
        response = get(route, file, GZIP)
        assert response["statusCode"] == 200, (route, file)
        assert response["isBase64Encoded"] is True
        assert response["headers"]["Content-Encoding"] == "gzip"
        assert response["headers"]["Vary"] == "Accept-Encoding"
        assert response["headers"]["X-Content-Type-Options"] == "nosniff"
        assert body_bytes(response) == content, (route, file)


def test_content_types() -> None:
    assert get("GET /api/docs")["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert get("GET /api/docs/{file}", "swagger-ui-bundle.js")["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert get("GET /api/docs/{file}", "docs.js")["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert get("GET /api/docs/{file}", "swagger-ui.css")["headers"]["Content-Type"] == "text/css; charset=utf-8"


def test_the_page_loads_nothing_from_outside_the_api_and_runs_only_its_own_scripts() -> None:
    page = get("GET /api/docs")
    for text in (page["body"], get("GET /api/docs/{file}", "docs.js")["body"]):
        assert "://" not in text  # every URL relative: no CDN, any stage or base path
    policy = page["headers"]["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "default-src 'none'" in policy
    assert "Content-Security-Policy" not in get("GET /api/openapi.json")["headers"]


@pytest.mark.parametrize("file", ["index.html", "openapi.json", "openapi.json.gz", "../handler.py", "..", "", "docs.js.gz"])
def test_anything_else_is_a_json_404(file: str) -> None:
    response = get("GET /api/docs/{file}", file, GZIP)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["detail"]


def test_an_unknown_route_is_a_json_404() -> None:
    response: dict[str, Any] = docs_handler.lambda_handler(http_api_event("GET", "/api/other", route_key="GET /api/other"), None)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["detail"]


# --- the $default route: whatever no other route takes ----------------------------------------


def unrouted(method: str, path: str) -> dict[str, Any]:
    response: dict[str, Any] = docs_handler.lambda_handler(http_api_event(method, path, route_key="$default"), None)
    return response


def test_the_root_points_to_the_documentation() -> None:
    response = unrouted("GET", "/")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    assert (body["docs"], body["openapi"]) == ("/api/docs", "/api/openapi.json")
    assert "/api/docs" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("POST", "/api"), ("GET", "/api/products/1/photos"), ("GET", "/api/products/")]
)
def test_an_unknown_path_is_a_json_404_with_a_detail(method: str, path: str) -> None:
    response = unrouted(method, path)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"]) == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/auth", "POST"),
        ("GET", "/api/order", "POST"),
        ("DELETE", "/api/products", "GET, POST"),
        ("PUT", "/api/products/12", "DELETE, GET, PATCH"),
        ("POST", "/api/docs/docs.js", "GET"),
        ("DELETE", "/", "GET"),
    ],
)
def test_a_known_path_with_another_method_is_a_405_with_allow(method: str, path: str, allow: str) -> None:
    response = unrouted(method, path)
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == allow
    assert json.loads(response["body"]) == {"detail": f'Method "{method}" not allowed.'}


def test_the_default_route_knows_exactly_the_templates_routes() -> None:
    """Its routes (the OpenAPI document's and the docs function's own) are the template's: a
    route added to one and not the other would get a wrong 404 or Allow."""
    declared = {(route.method, route.path) for spec in functions().values() for route in spec.routes if route.path != "$default"}
    known = {("/".join(template), method) for template, methods in docs_handler.known_routes() for method in methods}
    assert {(method, path) for path, method in known} == declared
    (default,) = [spec.logical_id for spec in functions().values() for route in spec.routes if route.path == "$default"]
    assert default == "DocsFunction"


def test_through_the_api_unknown_routes_and_methods_reach_the_default_route() -> None:
    """As API Gateway routes them (the template's routes, `$default` last)."""
    from shoplocal.gateway.invoke import LocalApi

    api = LocalApi()
    assert api.request("GET", "/").json()["docs"] == "/api/docs"
    assert (api.request("GET", "/api/nothing").status, api.request("GET", "/api/nothing").json()) == (
        404,
        {"detail": "Not found."},
    )
    wrong_method = api.request("PUT", "/api/me")
    assert (wrong_method.status, wrong_method.headers["allow"]) == (405, "GET, PATCH")


def test_a_revalidation_with_the_current_etag_is_a_304_without_a_body() -> None:
    first = get("GET /api/docs/{file}", "swagger-ui-bundle.js", GZIP)
    etag = first["headers"]["ETag"]
    assert first["headers"]["Cache-Control"] == "public, max-age=300"
    again = get("GET /api/docs/{file}", "swagger-ui-bundle.js", {**GZIP, "if-none-match": f'"other", {etag}'})
    assert again["statusCode"] == 304
    assert "body" not in again
    assert again["headers"]["ETag"] == etag
    stale = get("GET /api/docs/{file}", "swagger-ui-bundle.js", {**GZIP, "if-none-match": '"other"'})
    assert stale["statusCode"] == 200
    assert get("GET /api/docs")["headers"]["ETag"] != etag


@pytest.mark.parametrize(
    ("route", "file"), [("GET /api/docs", None), ("GET /api/docs/{file}", "docs.js"), ("GET /api/openapi.json", None)]
)
@pytest.mark.parametrize(
    ("accept_encoding", "if_none_match"), [("Accept-Encoding", "If-None-Match"), ("ACCEPT-ENCODING", "if-NONE-match")]
)
def test_each_route_reads_its_headers_in_any_case(route: str, file: str | None, accept_encoding: str, if_none_match: str) -> None:
    """As `sam local start-api` passes them: the names as the client wrote them."""
    first = get(route, file, {accept_encoding: "gzip"}, header_names="as sent")
    assert first["headers"]["Content-Encoding"] == "gzip"
    again = get(route, file, {accept_encoding: "gzip", if_none_match: first["headers"]["ETag"]}, header_names="as sent")
    assert again["statusCode"] == 304


@pytest.mark.parametrize(
    ("accept_encoding", "gzip_ok"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip ; q=1.0", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*, gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("gzip;q=nonsense", False),
        ("identity", False),
        ("br, deflate", False),
        ("", False),
    ],
)
def test_gzip_is_sent_only_when_accepted(accept_encoding: str, gzip_ok: bool) -> None:
    assert docs_handler.accepts_gzip(accept_encoding) is gzip_ok
    response = get("GET /api/openapi.json", headers={"accept-encoding": accept_encoding})
    assert ("Content-Encoding" in response["headers"]) is gzip_ok
    assert body_bytes(response) == (PROJECT_ROOT / "docs" / "openapi.json").read_bytes()


def test_every_response_fits_lambdas_response_limit(assets: Path) -> None:
    for path in assets.iterdir():
        compressed = path.read_bytes()
        assert len(base64.b64encode(compressed)) < LAMBDA_RESPONSE_LIMIT / 2, path.name
        assert len(gzip.decompress(compressed)) < LAMBDA_RESPONSE_LIMIT / 2, path.name


def test_the_function_is_granted_nothing() -> None:
    assert functions()["DocsFunction"].policy_statements == []
    assert "Policies" not in load_template()["Resources"]["DocsFunction"]["Properties"]


def test_a_cold_start_imports_only_the_standard_library() -> None:
    """No OpenAPI generation, powertools, pydantic or boto3: the document is a file. Of the layer
    (on the path, as Lambda puts it) only the header accessor, itself standard library only."""
    script = "import sys; before = set(sys.modules); import docs.handler; print('\\n'.join(set(sys.modules) - before))"
    path = [str(DOCS.parent), str(PROJECT_ROOT / "layers" / "common")]
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = {path!r}; {script}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    imported = set(result.stdout.split())
    assert "docs.handler" in imported
    assert {name for name in imported if name.startswith("shop_common")} == {"shop_common", "shop_common.headers"}
    others = {name.partition(".")[0] for name in imported} - {"docs", "shop_common"}
    assert others <= sys.stdlib_module_names, others - sys.stdlib_module_names
