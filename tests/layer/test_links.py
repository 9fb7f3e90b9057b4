"""Absolute links (`next`/`previous`, the my-orders `Link` header) are built from what API
Gateway vouches for, the API's domain and stage, never from the client's Host or X-Forwarded-*
headers; locally they point at the local server."""

import http.client
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import SECRET_NAME, TABLE_NAME
from shop_common.api import LOCAL_ORIGIN_KEY
from shoplocal.gateway import events
from shoplocal.gateway.http_server import ApiServer
from shoplocal.gateway.invoke import LambdaContext, LocalApi, load_handler
from shoplocal.gateway.local_gateway import LocalGateway
from shoplocal.template import TEMPLATE_PATH

HOSTILE_HEADERS = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "gopher",
    "X-Forwarded-Port": "6666",
    "Forwarded": "host=evil.example;proto=http",
}


@pytest.fixture
def products() -> None:
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    add_products([NewProduct(name=f"P{n}", price=Decimal("1.50"), quantity=100) for n in range(3)])


def links_of(page: dict[str, Any]) -> list[str]:
    return [page["next"], page["previous"]]


@pytest.mark.usefixtures("products")
def test_product_links_name_the_apis_domain_whatever_the_host_header(api: LocalApi) -> None:
    first = api.request("GET", "/api/products", query_string="limit=1", headers=HOSTILE_HEADERS).json()
    second = api.request("GET", "/api/products", query_string=urlsplit(first["next"]).query, headers=HOSTILE_HEADERS).json()
    assert first["next"].startswith("https://localhost/api/products?")
    assert [link.split("?")[0] for link in links_of(second)] == ["https://localhost/api/products"] * 2
    assert "evil" not in json.dumps([first, second])


def test_the_my_orders_link_names_the_apis_domain_whatever_the_host_header(api: LocalApi, signed_in: Any) -> None:
    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    (product,) = add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=5)])
    _, headers = signed_in()
    for _ in range(2):
        order = {"parts": [{"product": product.id, "quantity_in_order": 1}]}
        assert api.request("POST", "/api/order", json_body=order, headers=headers).status == 201
    response = api.request("GET", "/api/my-orders", query_string="limit=1", headers={**headers, **HOSTILE_HEADERS})
    assert response.headers["link"].startswith("<https://localhost/api/my-orders?limit=1&cursor=")
    assert response.headers["link"].endswith('>; rel="next"')


@pytest.mark.usefixtures("products")
def test_a_named_stage_is_the_first_path_segment_of_links(api: LocalApi) -> None:
    domain = "abc123.execute-api.eu-west-1.amazonaws.com"
    event = events.http_api_event(
        "GET", "/api/products", query_string="limit=1", headers=HOSTILE_HEADERS, domain_name=domain, stage="prod"
    )
    assert event["rawPath"] == "/prod/api/products"  # as API Gateway sends it on the execute-api domain
    result = load_handler(api.specs["ProductsFunction"])(event, LambdaContext("ProductsFunction"))
    assert json.loads(result["body"])["next"].startswith(f"https://{domain}/prod/api/products?page=2&limit=1&")


def test_the_local_origin_key_is_the_one_the_layer_reads() -> None:
    assert events.LOCAL_ORIGIN_KEY == LOCAL_ORIGIN_KEY


@pytest.fixture
def local_api_port(restore_environment: None) -> Iterator[int]:
    """The real template and handlers behind the local gateway, over HTTP."""
    gateway = LocalGateway(TEMPLATE_PATH, refs={"ShopTable": TABLE_NAME, "JwtSigningSecret": SECRET_NAME}, overrides={})
    server = ApiServer("127.0.0.1", 0, gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def get(port: int, target: str, headers: dict[str, str]) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest("GET", target, skip_host=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    return body


@pytest.mark.usefixtures("products")
def test_over_http_links_point_at_the_local_server_whatever_the_host_header(local_api_port: int) -> None:
    origin = f"http://127.0.0.1:{local_api_port}"
    first = get(local_api_port, "/api/products?limit=1", HOSTILE_HEADERS)
    assert first["next"].startswith(f"{origin}/api/products?page=2&limit=1&")
    following = urlsplit(first["next"])
    second = get(local_api_port, f"{following.path}?{following.query}", HOSTILE_HEADERS)
    assert [link.split("?")[0] for link in links_of(second)] == [f"{origin}/api/products"] * 2
    assert "evil" not in json.dumps([first, second])
