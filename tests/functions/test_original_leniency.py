"""What a client of the Django app sends still works: form bodies on its POST routes (sign-in,
refresh, order), and its validation errors also carry that app's keys (DRF's per-field lists),
beside ours (`detail`, `errors`)."""

from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi

FORM = "application/x-www-form-urlencoded"


def test_sign_in_and_refresh_take_form_bodies(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    signed_in = api.request("POST", "/api/auth", body=f"username={username}&password={password.replace(' ', '+')}",
                            headers={"Content-Type": FORM})
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
        ({"username": "", "password": ""}, {"username": ["This field may not be blank."], "password": ["This field may not be blank."]}),
        ({"username": None, "password": "x"}, {"username": ["This field may not be null."]}),
        ({"username": "a", "password": ["x"]}, {"password": ["Not a valid string."]}),
        ({"username": "a" * 151, "password": "x"}, {"username": ["Ensure this field has no more than 150 characters."]}),
    ],
)
def test_sign_in_errors_carry_drf_per_field_lists_besides_ours(api: LocalApi, body: dict[str, Any], lists: dict[str, Any]) -> None:
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
    assert response.json()["detail"] == "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"


def test_wrong_credentials_are_401_with_the_bearer_challenge(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", json_body={"username": "nobody", "password": "x"})
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"] == "No active account found with the given credentials"


def test_unknown_keys_are_ignored(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    response = api.request("POST", "/api/auth", json_body={"username": username, "password": password, "remember": True})
    assert response.status == 200
