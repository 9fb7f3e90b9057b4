"""GET/PATCH /api/me and POST /api/me/password: the signed-in user's own account."""

import threading
from collections import Counter
from typing import Any

import pytest

from conftest import bearer, fresh_handler
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def sign_in(api: LocalApi, username: str, password: str) -> Any:
    return api.request("POST", "/api/auth", json_body={"username": username, "password": password})


@pytest.fixture
def alice(api: LocalApi, new_user: Any) -> tuple[int, Headers, dict[str, str]]:
    """A signed-in user: (id, access-token headers, tokens)."""
    user_id, username, password = new_user("alice", email="alice@example.com", first_name="Alice", last_name="Liddell")
    tokens: dict[str, str] = sign_in(api, username, password).json()
    return user_id, bearer(tokens["access"]), tokens


def me(api: LocalApi, headers: Headers) -> Any:
    return api.request("GET", "/api/me", headers=headers)


def edit(api: LocalApi, headers: Headers, body: Any) -> Any:
    return api.request("PATCH", "/api/me", json_body=body, headers=headers)


def change_password(api: LocalApi, headers: Headers, current: str, new: str) -> Any:
    return api.request("POST", "/api/me/password", json_body={"current_password": current, "new_password": new}, headers=headers)


def item(partition: str) -> dict[str, Any] | None:
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    response = client().query(
        TableName=table_name(), KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": partition}}
    )
    items = [from_attributes(found) for found in response["Items"]]
    return items[0] if items else None


# --- GET /api/me ------------------------------------------------------------------------------


def test_me_returns_the_profile(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    user_id, headers, _ = alice
    response = me(api, headers)
    assert response.status == 200
    body = response.json()
    assert list(body) == ["id", "username", "email", "first_name", "last_name", "is_staff", "date_joined"]
    assert body | {"date_joined": ""} == {
        "id": user_id,
        "username": "alice",
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": "Liddell",
        "is_staff": False,
        "date_joined": "",
    }
    assert body["date_joined"].startswith("20")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}])
def test_me_needs_an_access_token_even_with_a_bad_body(api: LocalApi, headers: Headers) -> None:
    assert me(api, headers).status == 401
    assert api.request("PATCH", "/api/me", body="{not json", headers=headers).status == 401
    assert api.request("POST", "/api/me/password", body="[]", headers=headers).status == 401


def test_a_deactivated_account_cannot_read_or_edit_its_profile(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    from shopctl.accounts import set_active

    _, headers, _ = alice
    set_active("alice", False)
    for response in (
        me(api, headers),
        edit(api, headers, {"first_name": "A"}),
        change_password(api, headers, "correct horse battery", "x" * 20),
    ):
        assert response.status == 401
        assert response.json()["code"] == "user_inactive"


# --- PATCH /api/me ----------------------------------------------------------------------------


def test_edit_changes_only_the_fields_given(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    _, headers, _ = alice
    response = edit(api, headers, {"first_name": "  Alicia "})
    assert response.status == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Alicia", "Liddell")
    assert me(api, headers).json() == response.json()


def test_a_new_email_moves_its_claim_and_frees_the_old_one(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], new_user: Any
) -> None:
    user_id, headers, _ = alice
    response = edit(api, headers, {"email": "Alice.L@Wonderland.EXAMPLE"})
    assert response.status == 200
    assert response.json()["email"] == "Alice.L@wonderland.example"  # the domain normalised, as Django does
    assert item("EMAIL#alice.l@wonderland.example") == {
        "PK": "EMAIL#alice.l@wonderland.example",
        "SK": "EMAIL",
        "user_id": user_id,
    }
    assert item("EMAIL#alice@example.com") is None
    new_user("bob", email="alice@example.com")  # free again


def test_changing_only_the_case_of_the_email_keeps_its_claim(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    user_id, headers, _ = alice
    assert edit(api, headers, {"email": "ALICE@example.com"}).json()["email"] == "ALICE@example.com"
    assert item("EMAIL#alice@example.com") == {"PK": "EMAIL#alice@example.com", "SK": "EMAIL", "user_id": user_id}


def test_clearing_the_email_frees_it(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    _, headers, _ = alice
    assert edit(api, headers, {"email": ""}).json()["email"] == ""
    assert item("EMAIL#alice@example.com") is None


def test_an_email_taken_by_another_user_is_a_400_naming_the_field_and_changes_nothing(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], new_user: Any
) -> None:
    _, headers, _ = alice
    new_user("bob", email="bob@example.com")
    response = edit(api, headers, {"first_name": "Changed", "email": "BOB@example.com"})
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "email", "message": "A user with that email already exists."}]
    profile = me(api, headers).json()
    assert (profile["first_name"], profile["email"]) == ("Alice", "alice@example.com")
    assert item("EMAIL#alice@example.com") is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_staff": True}, "is_staff"),
        ({"is_active": False}, "is_active"),
        ({"username": "mallory"}, "username"),
        ({"id": 1}, "id"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"last_name": "x" * 151}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"first_name": 7}, "first_name"),
        ([], "body"),
    ],
)
def test_a_profile_edit_cannot_reach_other_fields_or_break_django_limits(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], body: Any, field: str
) -> None:
    _, headers, _ = alice
    before = me(api, headers).json()
    response = edit(api, headers, body)
    assert response.status == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert me(api, headers).json() == before
    assert sign_in(api, "alice", "correct horse battery").status == 200


def test_a_profile_edit_racing_another_edit_is_retried_then_a_409(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import profile_service
    from shop_common.profiles import AccountChanged

    _, headers, _ = alice
    attempts: list[int] = []

    def always_changed(*_: Any) -> None:
        attempts.append(1)
        raise AccountChanged("ConditionalCheckFailed")

    monkeypatch.setattr(profile_service, "save_names_and_email", always_changed)
    response = edit(api, headers, {"first_name": "Again"})
    assert response.status == 409
    assert len(attempts) == 3


def test_users_racing_for_one_email_exactly_one_wins(api: LocalApi, new_user: Any) -> None:
    racers = []
    for n in range(8):
        _, username, password = new_user(f"racer{n}")
        racers.append(bearer(sign_in(api, username, password).json()["access"]))
    apis = [LocalApi({"AuthFunction": fresh_handler("AuthFunction")}) for n in range(len(racers))]
    start = threading.Barrier(len(racers))
    statuses = [0] * len(racers)

    def claim(index: int) -> None:
        start.wait()
        statuses[index] = edit(apis[index], racers[index], {"email": "prize@example.com"}).status

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {200: 1, 400: len(racers) - 1}
    winner = statuses.index(200)
    assert me(api, racers[winner]).json()["email"] == "prize@example.com"
    assert sum(me(api, headers).json()["email"] == "prize@example.com" for headers in racers) == 1


# --- POST /api/me/password --------------------------------------------------------------------


def test_changing_the_password_signs_every_device_out_at_its_next_request(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]]
) -> None:
    _, headers, tokens = alice
    other_device = sign_in(api, "alice", "correct horse battery").json()
    response = change_password(api, headers, "correct horse battery", "through the looking glass")
    assert response.status == 204
    assert response.body == ""
    assert sign_in(api, "alice", "correct horse battery").status == 401
    fresh = sign_in(api, "alice", "through the looking glass").json()
    for old in (tokens["refresh"], other_device["refresh"]):
        refused = api.request("POST", "/api/refresh", json_body={"refresh": old})
        assert refused.status == 401
        assert refused.json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    assert api.request("POST", "/api/refresh", json_body={"refresh": fresh["refresh"]}).status == 200
    # Access tokens too, this device's included.
    for access in (headers, bearer(other_device["access"])):
        assert me(api, access).json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    # A second change revokes the tokens of the first.
    assert change_password(api, bearer(fresh["access"]), "through the looking glass", "down the rabbit hole").status == 204
    assert api.request("POST", "/api/refresh", json_body={"refresh": fresh["refresh"]}).status == 401


def test_a_wrong_current_password_is_a_400_and_changes_nothing(api: LocalApi, alice: tuple[int, Headers, dict[str, str]]) -> None:
    _, headers, tokens = alice
    response = change_password(api, headers, "wrong horse battery", "through the looking glass")
    assert response.status == 400
    assert response.json()["errors"] == [
        {"field": "current_password", "message": "Your old password was entered incorrectly. Please enter it again."}
    ]
    assert sign_in(api, "alice", "correct horse battery").status == 200
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 200


@pytest.mark.parametrize(
    ("new_password", "messages"),
    [
        ("wonder7", ["This password is too short. It must contain at least 8 characters."]),
        ("password", ["This password is too common."]),
        ("Password1", ["This password is too common."]),
        ("8462093175", ["This password is entirely numeric."]),
        ("12345678", ["This password is too common.", "This password is entirely numeric."]),
        (
            "alice",
            [
                "The password is too similar to the username.",
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
            ],
        ),
        ("Liddell1", ["The password is too similar to the last name."]),
        ("alice@example", ["The password is too similar to the email address."]),
        ("example.comx", ["The password is too similar to the email address."]),
    ],
)
def test_new_passwords_follow_djangos_default_validators_each_failure_named(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], new_password: str, messages: list[str]
) -> None:
    _, headers, _ = alice
    response = change_password(api, headers, "correct horse battery", new_password)
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "new_password", "message": message} for message in messages]
    assert sign_in(api, "alice", "correct horse battery").status == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["current_password", "new_password"]),
        ({"current_password": "x"}, ["new_password"]),
        ({"current_password": "x", "new_password": "y" * 4097}, ["new_password"]),
        ({"current_password": "x", "new_password": "long enough words", "is_staff": True}, ["is_staff"]),
    ],
)
def test_a_password_change_body_is_validated(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], body: Any, fields: list[str]
) -> None:
    _, headers, _ = alice
    response = api.request("POST", "/api/me/password", json_body=body, headers=headers)
    assert response.status == 400
    assert [error["field"] for error in response.json()["errors"]] == fields


def test_the_password_is_never_echoed_or_logged(
    api: LocalApi, alice: tuple[int, Headers, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, headers, _ = alice
    response = api.request(
        "POST", "/api/me/password", json_body={"current_password": "s3cret-current", "new_password": 12}, headers=headers
    )
    assert "s3cret-current" not in response.body
    change_password(api, headers, "correct horse battery", "v3ry-s3cret-new-one")
    assert "v3ry-s3cret-new-one" not in capsys.readouterr().out


def test_dynamodb_calls_per_request(api: LocalApi, alice: tuple[int, Headers, dict[str, str]], dynamodb_calls: Any) -> None:
    """Each after the account check (1 read): GET /api/me: 1 read. PATCH: 1 read + 1
    transaction. Password: 2 reads + 1 transaction."""
    _, headers, _ = alice
    requests: list[tuple[Any, list[str]]] = [
        (lambda: me(api, headers), ["GetItem", "GetItem"]),
        (lambda: edit(api, headers, {"email": "a@wonderland.example"}), ["GetItem", "GetItem", "TransactWriteItems"]),
        (
            lambda: change_password(api, headers, "correct horse battery", "through the looking glass"),
            ["GetItem", "GetItem", "GetItem", "TransactWriteItems"],
        ),
    ]
    for request, operations in requests:
        dynamodb_calls.clear()
        assert request().status < 300
        assert dynamodb_calls.operations == operations
