"""Refresh-token rotation (template parameter RotateRefreshTokens), with reuse detection."""

import threading
from collections import Counter
from typing import Any

import jwt
import pytest

from conftest import fresh_handler
from shop_common.secrets import jwt_signing_key
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import functions


@pytest.fixture
def rotating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROTATE_REFRESH_TOKENS", "true")


def sign_in(api: LocalApi, new_user: Any) -> dict[str, str]:
    _, username, password = new_user()
    tokens: dict[str, str] = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    return tokens


def refresh(api: LocalApi, token: str) -> Any:
    return api.request("POST", "/api/refresh", json_body={"refresh": token})


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, jwt_signing_key(), algorithms=["HS256"])
    return decoded


def test_without_rotation_refresh_answers_only_an_access_token_and_the_refresh_token_keeps_working(
    api: LocalApi, new_user: Any
) -> None:
    tokens = sign_in(api, new_user)
    for _ in range(2):
        response = refresh(api, tokens["refresh"])
        assert response.status == 200
        assert set(response.json()) == {"access"}


def test_the_template_keeps_rotation_off_by_default() -> None:
    from shoplocal.template import load_template

    parameter = load_template()["Parameters"]["RotateRefreshTokens"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["true", "false"])
    assert functions()["AuthFunction"].environment["ROTATE_REFRESH_TOKENS"] == {"Ref": "RotateRefreshTokens"}


@pytest.mark.usefixtures("rotating")
def test_rotation_answers_a_new_refresh_token_of_the_same_family_and_revokes_the_old_one(api: LocalApi, new_user: Any) -> None:
    tokens = sign_in(api, new_user)
    response = refresh(api, tokens["refresh"])
    assert response.status == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    old, new = claims(tokens["refresh"]), claims(rotated["refresh"])
    assert new["jti"] != old["jti"]
    assert new["fam"] == old["fam"] == claims(rotated["access"])["fam"] == claims(tokens["access"])["fam"]
    assert (new["token_type"], new["user_id"]) == ("refresh", old["user_id"])
    assert refresh(api, rotated["refresh"]).status == 200  # the new one works (once)


@pytest.mark.usefixtures("rotating")
def test_a_rotated_token_presented_again_is_theft_and_revokes_the_whole_family(api: LocalApi, new_user: Any) -> None:
    tokens = sign_in(api, new_user)
    other_device = sign_in(api, new_user)  # another sign-in: another family, untouched
    first_refresh = refresh(api, tokens["refresh"]).json()
    second = first_refresh["refresh"]
    third = refresh(api, second).json()["refresh"]
    reused = refresh(api, tokens["refresh"])
    assert reused.status == 401
    assert reused.json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    assert refresh(api, third).status == 401  # the owner's newest token died with the family
    # Its access tokens too, every one of them, and nothing of the other sign-in.
    for access in (tokens["access"], first_refresh["access"]):
        response = api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {access}"})
        assert (response.status, response.json()["code"]) == (401, "token_not_valid")
    assert refresh(api, other_device["refresh"]).status == 200
    assert api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {other_device['access']}"}).status == 200


@pytest.mark.usefixtures("rotating")
def test_a_signed_out_token_presented_again_also_ends_its_family(api: LocalApi, new_user: Any) -> None:
    tokens = sign_in(api, new_user)
    rotated = refresh(api, tokens["refresh"]).json()["refresh"]
    assert api.request("POST", "/api/logout", json_body={"refresh": rotated}).status == 204
    assert refresh(api, rotated).status == 401


@pytest.mark.usefixtures("rotating")
def test_rotation_costs_one_read_and_one_conditional_write(api: LocalApi, new_user: Any, dynamodb_calls: Any) -> None:
    tokens = sign_in(api, new_user)
    dynamodb_calls.clear()
    assert refresh(api, tokens["refresh"]).status == 200
    assert dynamodb_calls.operations == ["BatchGetItem", "PutItem"]
    assert dynamodb_calls.calls[1].params["ConditionExpression"] == "attribute_not_exists(PK)"


@pytest.mark.usefixtures("rotating")
@pytest.mark.parametrize("racers", [2, 6])
def test_concurrent_refreshes_with_one_token_let_at_most_one_through_and_end_the_family(
    api: LocalApi, new_user: Any, racers: int
) -> None:
    """However the requests interleave, one token is rotated exactly once; every other attempt
    is reuse, which revokes the family, so even the winner's new token is dead afterwards."""
    tokens = sign_in(api, new_user)
    apis = [LocalApi({"AuthFunction": fresh_handler("AuthFunction")}) for n in range(racers)]
    start = threading.Barrier(racers)
    replies: list[Any] = [None] * racers

    def attempt(index: int) -> None:
        start.wait()
        replies[index] = refresh(apis[index], tokens["refresh"])

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The first conditional write wins (its request had passed the checks); every later
    # attempt either sees the revocation or loses the condition.
    assert Counter(reply.status for reply in replies) == {200: 1, 401: racers - 1}
    for reply in replies:
        if reply.status == 200:
            assert refresh(api, reply.json()["refresh"]).status == 401
