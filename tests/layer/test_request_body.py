"""Request bodies are JSON only, read once and bounded: any other body is a 4xx JSON error with a
`detail`, on every POST route, logged at most as a warning, and changes nothing."""

import base64
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import log_lines
from shop_common.errors import InvalidRequest, ShopError
from shop_common.request_body import BODY_METHODS, MAX_BODY_BYTES, MAX_DEPTH, MAX_INTEGER_DIGITS, parse_json, with_json_body
from shoplocal.gateway.events import http_api_event
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import functions

# Every route that takes a body (POST, and PATCH /api/me).
BODY_ROUTES = sorted(
    (route.method, route.path) for spec in functions().values() for route in spec.routes if route.method in BODY_METHODS
)

JSON = "application/json"
HUGE_INTEGER = "9" * 5000
MULTIPART = "--b\r\nContent-Disposition: form-data; name=refresh\r\n\r\nx\r\n--b--"

# Each must be refused with the status given, on every route that takes a body.
MALFORMED_BODIES: list[tuple[str, str | bytes, str, int]] = [
    ("100,000-deep array", "[" * 100_000 + "]" * 100_000, JSON, 413),
    ("20,000-deep array within the size limit", "[" * 20_000 + "]" * 20_000, JSON, 400),
    ("deep object", '{"a":' * 1000 + "1" + "}" * 1000, JSON, 400),
    ("5,000-digit integer", '{"parts":[{"product":' + HUGE_INTEGER + ',"quantity_in_order":1}]}', JSON, 400),
    ("negative 5,000-digit integer", '{"refresh":-' + HUGE_INTEGER + "}", JSON, 400),
    ("Latin-1", '{"username": "caf\xe9", "password": "x"}'.encode("latin-1"), JSON, 400),
    ("UTF-16 with BOM", '{"username": "a", "password": "b"}'.encode("utf-16"), JSON, 400),
    ("UTF-16 without BOM", '{"username": "a", "password": "b"}'.encode("utf-16-le"), JSON, 400),
    ("lone surrogate escape", '{"username": "\\ud800", "password": "x", "refresh": "\\udfff"}', JSON, 400),
    ("NaN", '{"parts": [{"product": NaN, "quantity_in_order": 1}], "refresh": NaN}', JSON, 400),
    ("Infinity", '{"refresh": -Infinity}', JSON, 400),
    ("not JSON", "{not json", JSON, 400),
    ("an array holding an object", '[{"refresh": "x", "username": "a", "password": "b"}]', JSON, 400),
    ("a string", '"x"', JSON, 400),
    ("UTF-8 byte-order mark", '\ufeff{"refresh": "x"}', JSON, 400),
    ("over the size limit", '{"refresh": "' + "x" * MAX_BODY_BYTES + '"}', JSON, 413),
    ("multipart without a boundary", '{"refresh": "x"}', "multipart/form-data", 415),
    ("multipart with a boundary", MULTIPART, "multipart/form-data; boundary=b", 415),
    ("text", '{"refresh": "x"}', "text/plain", 415),
    ("JSON in another charset", '{"refresh": "x"}', "application/json; charset=latin-1", 415),
    ("a JSON look-alike", '{"refresh": "x"}', "application/jsonp", 415),
]
MALFORMED = [pytest.param(body, content_type, status, id=name) for name, body, content_type, status in MALFORMED_BODIES]


@pytest.fixture
def signed_in_headers(signed_in: Any) -> dict[str, str]:
    """The orders function (and the accounts' own routes) authenticate before anything else, and
    the staff catalogue checks for staff: every route gets a staff member's valid token, so that
    the body is what is judged."""
    headers: dict[str, str] = signed_in(is_staff=True)[1]
    return headers


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize(("body", "content_type", "status"), MALFORMED)
def test_a_malformed_body_is_a_4xx_json_error_logged_at_most_as_a_warning(
    api: LocalApi,
    signed_in_headers: dict[str, str],
    json_logs: io.StringIO,
    method: str,
    path: str,
    body: str | bytes,
    content_type: str,
    status: int,
) -> None:
    response = api.request(method, path, body=body, headers={"Content-Type": content_type, **signed_in_headers})
    assert response.status == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]
    assert {line["level"] for line in log_lines(json_logs.getvalue())} <= {"DEBUG", "INFO", "WARNING"}


def test_a_refused_order_body_changes_nothing(api: LocalApi, signed_in_headers: dict[str, str]) -> None:
    from shop_common.catalog import add_products, get_products
    from shop_common.models import NewProduct

    (product,) = add_products([NewProduct(name="Mug", price=Decimal("2.50"), quantity=3)])
    for _, body, content_type, _ in MALFORMED_BODIES:
        api.request("POST", "/api/order", body=body, headers={"Content-Type": content_type, **signed_in_headers})
    assert get_products([product.id])[product.id].quantity == 3
    assert api.request("GET", "/api/my-orders", headers=signed_in_headers).json() == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON", "application/json; charset=utf-8", 'application/json;charset="UTF-8"', None],
)
def test_json_is_accepted_with_or_without_its_media_type(api: LocalApi, new_user: Any, content_type: str | None) -> None:
    _, username, password = new_user()
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"username": username, "password": password})
    assert api.request("POST", "/api/auth", body=body, headers=headers).status == 200


def test_a_body_may_arrive_base64_encoded_but_must_be_valid_base64(new_user: Any) -> None:
    _, username, password = new_user()
    event = http_api_event("POST", "/api/auth", headers={"Content-Type": "application/json"}, body=b"placeholder")
    event["body"] = base64.b64encode(json.dumps({"username": username, "password": password}).encode()).decode()
    assert with_json_body(event)["body"] == json.dumps({"username": username, "password": password})
    event["body"] = "not base64!"
    with pytest.raises(InvalidRequest):
        with_json_body(event)


FORM_ROUTES = {("POST", "/api/auth"), ("POST", "/api/refresh"), ("POST", "/api/order")}


@pytest.mark.parametrize(("method", "path"), [route for route in BODY_ROUTES if route not in FORM_ROUTES])
def test_a_form_body_is_a_415_but_on_the_django_apps_routes(
    api: LocalApi, signed_in_headers: dict[str, str], method: str, path: str
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_in_headers}
    response = api.request(method, path, body="username=a&password=b", headers=headers)
    assert response.status == 415
    assert response.json()["detail"]


def test_no_body_is_no_fields_on_the_django_apps_routes_only(api: LocalApi, signed_in_headers: dict[str, str]) -> None:
    empty = api.request("POST", "/api/auth", body="", headers={"Content-Type": "application/json"})
    assert (empty.status, empty.json()["username"]) == (400, ["This field is required."])
    patch = api.request("PATCH", "/api/me", body="", headers={"Content-Type": "application/json", **signed_in_headers})
    assert patch.status == 400  # not an empty edit: a body is required
    assert [error["field"] for error in patch.json()["errors"]] == ["body"]


def test_requests_without_a_body_are_not_judged_by_their_content_type(api: LocalApi) -> None:
    response = api.request("GET", "/api/products", headers={"Content-Type": "multipart/form-data"})
    assert response.status == 200


# --- the parser against the standard library's, as the oracle -----------------------------------

LIMITED_INTEGERS = st.integers(min_value=1 - 10**MAX_INTEGER_DIGITS, max_value=10**MAX_INTEGER_DIGITS - 1)
SCALARS = st.none() | st.booleans() | LIMITED_INTEGERS | st.floats(allow_nan=False, allow_infinity=False) | st.text()


def json_values(depth: int) -> st.SearchStrategy[Any]:
    """JSON values nested at most `depth` deep, with integers of at most the digits allowed."""
    if depth == 0:
        return SCALARS
    children = json_values(depth - 1)
    return SCALARS | st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)


@given(json_values(6))
@settings(suppress_health_check=[HealthCheck.too_slow])  # nested values take long to draw on a busy machine
def test_parse_json_reads_what_json_loads_reads_within_the_limits(value: Any) -> None:
    text = json.dumps({"value": value})  # every body of this API is an object
    assert parse_json(text) == json.loads(text, parse_float=Decimal)  # numbers with a fraction: exact


@given(st.text(alphabet=st.sampled_from('[]{}"\\:,0123456789-.eE tnrufalsNIy\ud800'), max_size=200) | st.text(max_size=200))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_parse_json_returns_what_json_loads_returns_or_a_400(text: str) -> None:
    try:
        parsed = parse_json(text)
    except InvalidRequest:
        return  # invalid JSON, or JSON beyond a limit (NaN, a lone surrogate, depth, digits)
    assert parsed == json.loads(text, parse_float=Decimal)
    assert isinstance(parsed, dict)


@given(st.integers(min_value=MAX_DEPTH - 2, max_value=MAX_DEPTH + 2))
def test_nesting_is_refused_beyond_the_depth_limit(depth: int) -> None:
    text = '{"v":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"  # `depth` levels, the object's included
    if depth <= MAX_DEPTH:
        assert parse_json(text) is not None
    else:
        with pytest.raises(InvalidRequest):
            parse_json(text)


@given(st.integers(min_value=MAX_INTEGER_DIGITS - 2, max_value=MAX_INTEGER_DIGITS + 2), st.booleans())
def test_integers_are_refused_beyond_the_digit_limit(digits: int, negative: bool) -> None:
    number = ("-" if negative else "") + "7" * digits
    text = '{"v": ' + number + "}"
    if digits <= MAX_INTEGER_DIGITS:
        assert parse_json(text) == {"v": int(number)}
    else:
        with pytest.raises(InvalidRequest):
            parse_json(text)


@given(st.binary(max_size=300), st.booleans(), st.sampled_from(["application/json", "", "text/plain", "multipart/form-data"]))
def test_any_body_becomes_utf8_json_text_or_a_4xx(raw: bytes, encoded: bool, content_type: str) -> None:
    event = http_api_event("POST", "/api/auth", headers={"Content-Type": content_type} if content_type else {}, body=raw)
    if not encoded:
        event["body"], event["isBase64Encoded"] = raw.decode("latin-1"), False
    try:
        checked = with_json_body(event)
    except ShopError as error:
        refused: int | None = error.status_code
    else:
        refused = None
    if refused is not None:
        assert 400 <= refused < 500
        return
    assert checked["headers"]["content-type"] == "application/json"
    assert checked["isBase64Encoded"] is False
    sent = raw.decode("utf-8") if encoded else raw.decode("latin-1")
    assert checked["body"] == sent
