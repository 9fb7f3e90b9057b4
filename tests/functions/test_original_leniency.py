"""What a client of the Django app sends still works: form bodies on its POST routes (sign-in,
refresh, order), and its validation errors also carry that app's keys (DRF's per-field lists),
beside ours (`detail`, `errors`)."""

from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi

FORM = "application/x-www-form-urlencoded"


def test_sign_in_and_refresh_take_form_bodies(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    signed_in = api.request(
        "POST", "/api/auth", body=f"username={username}&password={password.replace(' ', '+')}", headers={"Content-Type": FORM}
    )
    assert signed_in.status == 200
    refreshed = api.request("POST", "/api/refresh", body=f"refresh={signed_in.json()['refresh']}", headers={"Content-Type": FORM})
    assert refreshed.status == 200
    assert set(refreshed.json()) >= {"access"}


def test_a_form_names_its_last_value_and_may_say_its_charset(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user("café")
    body = f"username=nobody&username={username}&password={password}".encode("latin-1")
    response = api.request("POST", "/api/auth", body=body, headers={"Content-Type": f"{FORM}; charset=ISO-8859-1"})
    assert response.status == 200


def test_forms_stay_415_on_routes_the_django_app_did_not_have(api: LocalApi) -> None:
    response = api.request("POST", "/api/register", body="username=a&password=b", headers={"Content-Type": FORM})
    assert response.status == 415


@pytest.mark.parametrize(
    ("body", "lists"),
    [
        ({}, {"username": ["This field is required."], "password": ["This field is required."]}),
        (
            {"username": "", "password": ""},
            {"username": ["This field may not be blank."], "password": ["This field may not be blank."]},
        ),
        ({"username": None, "password": "x"}, {"username": ["This field may not be null."]}),
        ({"username": "a", "password": ["x"]}, {"password": ["Not a valid string."]}),
        ({"username": "a" * 151, "password": "x"}, {"username": ["Ensure this field has no more than 150 characters."]}),
    ],
)
def test_sign_in_errors_carry_drf_per_field_lists_besides_ours(
    api: LocalApi, body: dict[str, Any], lists: dict[str, Any]
) -> None:
    response = api.request("POST", "/api/auth", json_body=body)
    assert response.status == 400
    answer = response.json()
    assert {key: answer[key] for key in lists} == lists
    assert answer["detail"] == "Invalid request."
    assert {problem["field"] for problem in answer["errors"]} == set(lists)


def test_an_empty_body_names_each_missing_field(api: LocalApi) -> None:
    for content_type in ("application/json", FORM):
        response = api.request("POST", "/api/refresh", body="", headers={"Content-Type": content_type})
        assert response.status == 400
        assert response.json()["refresh"] == ["This field is required."]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        ('"x"', "Invalid data. Expected a dictionary, but got str."),
        ("5", "Invalid data. Expected a dictionary, but got int."),
        ("1.5", "Invalid data. Expected a dictionary, but got float."),
        ("true", "Invalid data. Expected a dictionary, but got bool."),
        ("null", "No data provided"),
    ],
)
def test_a_body_that_is_not_an_object_carries_non_field_errors(api: LocalApi, body: str, words: str) -> None:
    response = api.request("POST", "/api/auth", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.json()["non_field_errors"] == [words]
    assert response.json()["errors"] == [{"field": "body", "message": "Request body must be a JSON object."}]


def test_invalid_json_is_explained_in_the_django_apps_words(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", body="{bad", headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (
        response.json()["detail"]
        == "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_wrong_credentials_are_401_with_the_bearer_challenge(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", json_body={"username": "nobody", "password": "x"})
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"] == "No active account found with the given credentials"


def test_unknown_keys_are_ignored(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    response = api.request("POST", "/api/auth", json_body={"username": username, "password": password, "remember": True})
    assert response.status == 200


# --- orders ---------------------------------------------------------------------------------------


def stocked(*stocks: int) -> list[int]:
    from decimal import Decimal

    from shop_common.catalog import add_products
    from shop_common.models import NewProduct

    return [
        p.id for p in add_products([NewProduct(name=f"P{n}", price=Decimal("1.64"), quantity=s) for n, s in enumerate(stocks)])
    ]


def stock_of(product_id: int) -> int:
    from shop_common.catalog import get_products

    return get_products([product_id])[product_id].quantity


@pytest.mark.parametrize(
    ("product", "quantity"),
    [("1", "2"), (1.0, 2.0), (" 1 ", " 2 "), (1, "2.0"), ("1", "2.00")],
)
def test_integer_valued_strings_and_floats_are_integers(api: LocalApi, signed_in: Any, product: Any, quantity: Any) -> None:
    (mug,) = stocked(5)
    _, headers = signed_in()
    body = {"parts": [{"product": product, "quantity_in_order": quantity}]}
    response = api.request("POST", "/api/order", json_body=body, headers=headers)
    assert response.status == 201, response.body
    assert response.json()["parts"][0] | {"product": mug} == {
        "product": mug, "quantity_in_order": 2, "product_name": "P0", "unit_price": 1.64, "line_total": 3.28, "discount": 0.0,
    }  # fmt: skip
    assert stock_of(mug) == 3


def test_an_order_takes_a_form_body_with_drf_or_bracketed_part_names(api: LocalApi, signed_in: Any) -> None:
    mug, teapot = stocked(5, 5)
    _, headers = signed_in()
    for body in (
        f"parts[0]product={mug}&parts[0]quantity_in_order=2&parts[1]product={teapot}&parts[1]quantity_in_order=1",
        f"parts[0][product]={mug}&parts[0][quantity_in_order]=1&ignored=x",
    ):
        response = api.request("POST", "/api/order", body=body, headers={"Content-Type": FORM, **headers})
        assert response.status == 201, response.body
    assert (stock_of(mug), stock_of(teapot)) == (2, 4)


def test_unknown_keys_in_an_order_are_ignored(api: LocalApi, signed_in: Any) -> None:
    (mug,) = stocked(5)
    _, headers = signed_in()
    body = {"parts": [{"product": mug, "quantity_in_order": 1, "note": "gift"}], "coupon": "X"}
    assert api.request("POST", "/api/order", json_body=body, headers=headers).status == 201


def test_the_same_product_twice_is_summed_and_checked_once(api: LocalApi, signed_in: Any) -> None:
    (mug,) = stocked(3)
    _, headers = signed_in()
    twice = {"parts": [{"product": mug, "quantity_in_order": 2}, {"product": mug, "quantity_in_order": 2}]}
    response = api.request("POST", "/api/order", json_body=twice, headers=headers)
    assert response.status == 400
    assert response.json()["order_part"] == "Not enough product in stock to complete the order"
    assert stock_of(mug) == 3
    ok = {"parts": [{"product": mug, "quantity_in_order": 1}, {"product": str(mug), "quantity_in_order": "2"}]}
    response = api.request("POST", "/api/order", json_body=ok, headers=headers)
    assert response.status == 201
    assert [(part["product"], part["quantity_in_order"]) for part in response.json()["parts"]] == [(mug, 3)]
    assert stock_of(mug) == 0


def test_short_stock_names_the_first_short_part_in_the_django_apps_keys(api: LocalApi, signed_in: Any) -> None:
    plenty, short, shorter = stocked(10, 1, 0)
    _, headers = signed_in()
    parts = [
        {"product": plenty, "quantity_in_order": 1},
        {"product": short, "quantity_in_order": 2},
        {"product": shorter, "quantity_in_order": 1},
    ]
    response = api.request("POST", "/api/order", json_body={"parts": parts}, headers=headers)
    assert response.status == 400
    body = response.json()
    assert (body["order_part"], body["product_id"]) == ("Not enough product in stock to complete the order", str(short))
    assert body["code"] == "insufficient_stock"
    assert [error["product"] for error in body["errors"]] == [short, shorter]


def test_an_unknown_product_is_named_in_its_part(api: LocalApi, signed_in: Any) -> None:
    (mug,) = stocked(10)
    _, headers = signed_in()
    parts = [{"product": mug, "quantity_in_order": 1}, {"product": 999, "quantity_in_order": 1}]
    response = api.request("POST", "/api/order", json_body={"parts": parts}, headers=headers)
    assert response.status == 400
    assert response.json()["order_part"] == [{}, {"product": ['Invalid pk "999" - object does not exist.']}]
    assert response.json()["code"] == "unknown_product"


@pytest.mark.parametrize(
    ("body", "original"),
    [
        ({}, {"parts": "Order must contain at least one product in 'parts' field"}),
        ({"parts": []}, {"parts": "Order must contain at least one product in 'parts' field"}),
        ({"parts": None}, {"parts": "Order must contain at least one product in 'parts' field"}),
        ({"parts": {}}, {"parts": "Order must contain at least one product in 'parts' field"}),
        ({"parts": "x"}, {"order_part": {"non_field_errors": ['Expected a list of items but got type "str".']}}),
        ({"parts": {"a": 1}}, {"order_part": {"non_field_errors": ['Expected a list of items but got type "dict".']}}),
        (
            {"parts": [1, "a", None]},
            {
                "order_part": [
                    {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]},
                    {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
                    ["This field may not be null."],
                ]
            },
        ),
        (
            {"parts": [{"product": 1, "quantity_in_order": 1}, {"product": 1, "quantity_in_order": "x"}]},
            {"order_part": [{}, {"quantity_in_order": ["A valid integer is required."]}]},
        ),
        ({"parts": [{"product": 1}]}, {"order_part": [{"quantity_in_order": ["This field is required."]}]}),
        ({"parts": [{"quantity_in_order": 1}]}, {"order_part": [{"product": ["This field is required."]}]}),
        ({"parts": [{"product": None, "quantity_in_order": 1}]}, {"order_part": [{"product": ["This field may not be null."]}]}),
        (
            {"parts": [{"product": "abc", "quantity_in_order": 1}]},
            {"order_part": [{"product": ["Incorrect type. Expected pk value, received str."]}]},
        ),
        (
            {"parts": [{"product": True, "quantity_in_order": 1}]},
            {"order_part": [{"product": ["Incorrect type. Expected pk value, received bool."]}]},
        ),
        (
            {"parts": [{"product": 0, "quantity_in_order": 1}]},
            {"order_part": [{"product": ['Invalid pk "0" - object does not exist.']}]},
        ),
        (
            {"parts": [{"product": 1, "quantity_in_order": 0}]},
            {"order_part": [{"quantity_in_order": ["Ensure this value is greater than or equal to 1."]}]},
        ),
        (
            {"parts": [{"product": 1, "quantity_in_order": -1}]},
            {"order_part": [{"quantity_in_order": ["Ensure this value is greater than or equal to 1."]}]},
        ),
        (
            {"parts": [{"product": 1, "quantity_in_order": 1.5}]},
            {"order_part": [{"quantity_in_order": ["A valid integer is required."]}]},
        ),
        (
            {"parts": [{"product": 1, "quantity_in_order": True}]},
            {"order_part": [{"quantity_in_order": ["A valid integer is required."]}]},
        ),
    ],
)
def test_bad_order_bodies_carry_the_django_apps_keys_and_change_nothing(
    api: LocalApi, signed_in: Any, body: dict[str, Any], original: dict[str, Any]
) -> None:
    (mug,) = stocked(5)
    assert mug == 1
    _, headers = signed_in()
    response = api.request("POST", "/api/order", json_body=body, headers=headers)
    assert response.status == 400
    answer = response.json()
    assert {key: answer[key] for key in original} == original
    assert answer["detail"]
    assert answer["errors"]
    assert stock_of(mug) == 5
    assert api.request("GET", "/api/my-orders", headers=headers).json() == []


def test_an_order_body_that_is_not_an_object_carries_non_field_errors(api: LocalApi, signed_in: Any) -> None:
    _, headers = signed_in()
    response = api.request("POST", "/api/order", body="[]", headers={"Content-Type": "application/json", **headers})
    assert response.status == 400
    assert response.json()["non_field_errors"] == ["Invalid data. Expected a dictionary, but got list."]


def test_a_form_order_whose_parts_are_not_a_list_says_so(api: LocalApi, signed_in: Any) -> None:
    _, headers = signed_in()
    response = api.request("POST", "/api/order", body="parts=x", headers={"Content-Type": FORM, **headers})
    assert response.status == 400
    assert response.json()["order_part"] == {"non_field_errors": ['Expected a list of items but got type "str".']}


def test_a_401_carries_the_bearer_challenge(api: LocalApi) -> None:
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = api.request("GET", "/api/my-orders", headers=headers)
        assert response.status == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="api"'
