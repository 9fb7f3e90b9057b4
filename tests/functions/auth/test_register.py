"""POST /api/register: sign-up with Django's username, email and password rules."""

import unicodedata
from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi


def register(api: LocalApi, **body: Any) -> Any:
    return api.request("POST", "/api/register", json_body={"password": "a fine passphrase", **body})


def sign_in(api: LocalApi, username: str, password: str = "a fine passphrase") -> int:
    status: int = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).status
    return status


def test_sign_up_creates_an_account_that_signs_in(api: LocalApi) -> None:
    response = register(api, username="zelda", email="Zelda@Hyrule.EXAMPLE", first_name="Zelda", last_name="Hyrule")
    assert response.status == 201
    body = response.json()
    assert body | {"id": 0, "date_joined": ""} == {
        "id": 0,
        "username": "zelda",
        "email": "Zelda@hyrule.example",
        "first_name": "Zelda",
        "last_name": "Hyrule",
        "is_staff": False,
        "date_joined": "",
    }
    assert sign_in(api, "zelda") == 200
    access = api.request("POST", "/api/auth", json_body={"username": "zelda", "password": "a fine passphrase"}).json()["access"]
    assert api.request("GET", "/api/me", headers={"Authorization": f"Bearer {access}"}).json() == body


def test_sign_up_costs_three_calls(api: LocalApi, dynamodb_calls: Any) -> None:
    register(api, username="counted")
    assert dynamodb_calls.operations == ["UpdateItem", "TransactWriteItems", "GetItem"]


def test_usernames_are_nfkc_normalised_as_django_does(api: LocalApi) -> None:
    nfd = unicodedata.normalize("NFD", "Zoë")
    nfc = unicodedata.normalize("NFC", "Zoë")
    assert nfd != nfc
    response = register(api, username=nfd)
    assert response.status == 201
    assert response.json()["username"] == nfc
    assert sign_in(api, nfc) == 200
    assert sign_in(api, nfd) == 200
    assert register(api, username=nfc).json()["errors"] == [
        {"field": "username", "message": "A user with that username already exists."}
    ]


def test_accounts_created_by_the_cli_are_normalised_too(api: LocalApi, new_user: Any) -> None:
    new_user(unicodedata.normalize("NFD", "Zoë"), "a fine passphrase")
    assert sign_in(api, unicodedata.normalize("NFC", "Zoë")) == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "two words"}, "username"),
        ({"username": "bang!"}, "username"),
        ({"username": ""}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"username": "ok", "email": "nope"}, "email"),
        ({"username": "ok", "first_name": "x" * 151}, "first_name"),
        ({"username": "ok", "is_staff": True}, "is_staff"),
        ({"username": "ok", "is_active": False}, "is_active"),
        ({"username": "ok", "password": ""}, "password"),
        ({"username": "ok", "password": "x" * 4097}, "password"),
        ({"password": "a fine passphrase"}, "username"),
    ],
)
def test_invalid_sign_ups_are_400_naming_the_field_and_create_nothing(api: LocalApi, body: dict[str, Any], field: str) -> None:
    response = api.request("POST", "/api/register", json_body={"password": "a fine passphrase", **body})
    assert response.status == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert sign_in(api, "ok") == 401


def test_a_username_of_150_letters_and_django_punctuation_is_fine(api: LocalApi) -> None:
    assert register(api, username="a.b@c+d-e_f" + "x" * 139).status == 201
    assert register(api, username="Ünïcödé_名前").status == 201


def test_taken_usernames_and_emails_are_named_and_nothing_is_half_created(api: LocalApi) -> None:
    assert register(api, username="first", email="taken@example.com").status == 201
    assert register(api, username="first", email="other@example.com").json()["errors"] == [
        {"field": "username", "message": "A user with that username already exists."}
    ]
    assert register(api, username="second", email="TAKEN@example.com").json()["errors"] == [
        {"field": "email", "message": "A user with that email already exists."}
    ]
    assert sign_in(api, "second") == 401
    assert register(api, username="second", email="other@example.com").status == 201  # nothing of it was kept


@pytest.mark.parametrize(("first", "second"), [("admin", "Admin"), ("Zoë", "ZOË"), ("straße", "STRASSE"), ("ǅemal", "ǆemal")])
def test_a_username_differing_only_in_case_is_taken_as_django_refuses_it_at_sign_up(
    api: LocalApi, first: str, second: str
) -> None:
    assert register(api, username=first).status == 201
    assert register(api, username=second).json()["errors"] == [
        {"field": "username", "message": "A user with that username already exists."}
    ]
    assert sign_in(api, second) == 401
    assert sign_in(api, first) == 200  # sign-in stays case-sensitive, as in Django


@pytest.mark.parametrize(
    "look_alike",
    [
        "bu\u017f@example.com",  # long s
        "b\u0131@example.com",  # dotless i
        "\u212aate@example.com",  # Kelvin sign
        "\u0130van@example.com",  # dotted capital I
        '"bu\u017f"@example.com',
        "a@ex\u017fmple.com",
    ],
)
def test_emails_with_non_ascii_look_alike_letters_are_refused(api: LocalApi, look_alike: str) -> None:
    """Python's case-insensitive [A-Z] also matches the long s, the dotless i, the dotted capital
    I and the Kelvin sign: `bus@` with a long s would have been a second account beside `bus@`."""
    response = register(api, username="lookalike", email=look_alike)
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "email", "message": "Enter a valid email address."}]


def test_emails_are_unique_whatever_their_case(api: LocalApi) -> None:
    assert register(api, username="one", email="Bus.Stop@Example.COM").status == 201
    taken = register(api, username="two", email="bus.stop@example.com")
    assert taken.json()["errors"] == [{"field": "email", "message": "A user with that email already exists."}]


def test_passwords_follow_djangos_validators(api: LocalApi) -> None:
    response = register(api, username="weakling", password="weakling1")
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "password", "message": "The password is too similar to the username."}]
    response = register(api, username="numbers", password="20261125")
    assert [error["message"] for error in response.json()["errors"]] == ["This password is entirely numeric."]
    assert sign_in(api, "weakling", "weakling1") == 401


def test_sign_up_can_be_switched_off(api: LocalApi, monkeypatch: pytest.MonkeyPatch, dynamodb_calls: Any) -> None:
    monkeypatch.setenv("SIGN_UP_ENABLED", "false")
    response = register(api, username="latecomer")
    assert response.status == 403
    assert response.json() == {"detail": "Sign-up is disabled.", "code": "sign_up_disabled"}
    assert dynamodb_calls.operations == []


def test_the_template_switches_sign_up_with_a_parameter_on_by_default() -> None:
    from shoplocal.template import functions, load_template

    parameter = load_template()["Parameters"]["SignUpEnabled"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    assert functions()["AuthFunction"].environment["SIGN_UP_ENABLED"] == {"Ref": "SignUpEnabled"}
