"""The sign-in throttle: 10 failed sign-ins per username in a 15-minute window, then 429."""

import unicodedata
from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi


def sign_in(api: LocalApi, username: str, password: str) -> Any:
    return api.request("POST", "/api/auth", json_body={"username": username, "password": password})


def fail(api: LocalApi, username: str, times: int) -> list[int]:
    return [sign_in(api, username, f"guess {n}").status for n in range(times)]


def test_after_ten_failures_even_the_right_password_gets_429_with_retry_after(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    assert fail(api, username, 10) == [401] * 10
    response = sign_in(api, username, password)
    assert response.status == 429
    assert response.json() == {
        "detail": "Too many failed sign-ins for this username; try again later.",
        "code": "too_many_attempts",
    }
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60


def test_the_answers_do_not_reveal_whether_the_username_exists(api: LocalApi, new_user: Any) -> None:
    _, username, _ = new_user()
    assert fail(api, username, 12) == fail(api, "nobody-by-that-name", 12) == [401] * 10 + [429] * 2


def test_known_and_unknown_usernames_cost_the_same_password_work(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing is the same work, not a measured duration: one key derivation per checked
    attempt for any username, none once throttled."""
    import passwords

    derivations: list[str] = []
    real_derive = passwords._derive

    def counting(password: str, salt: str, iterations: int, digest: str = "sha256") -> bytes:
        derivations.append(password)
        return real_derive(password, salt, iterations, digest)

    monkeypatch.setattr(passwords, "_derive", counting)
    _, username, _ = new_user()
    for name in (username, "nobody-by-that-name"):
        derivations.clear()
        fail(api, name, 12)
        assert len(derivations) == 10, name


def test_the_lock_ends_with_its_window(api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sign_in_throttle

    _, username, password = new_user()
    fail(api, username, 10)
    assert sign_in(api, username, password).status == 429
    real_clock = sign_in_throttle._clock
    monkeypatch.setattr(sign_in_throttle, "_clock", lambda: real_clock() + sign_in_throttle.WINDOW_SECONDS)
    assert sign_in(api, username, password).status == 200


def test_a_successful_sign_in_clears_the_count(api: LocalApi, new_user: Any, dynamodb_calls: Any) -> None:
    _, username, password = new_user()
    fail(api, username, 9)
    dynamodb_calls.clear()
    assert sign_in(api, username, password).status == 200
    assert dynamodb_calls.operations == ["BatchGetItem", "DeleteItem"]
    assert fail(api, username, 10) == [401] * 10  # a fresh count of ten


def test_counters_expire_by_ttl_at_the_end_of_their_window(new_user: Any, api: LocalApi) -> None:
    import sign_in_throttle
    from shop_common.dynamo import client, from_attributes, to_attributes
    from shop_common.settings import table_name

    _, username, _ = new_user()
    fail(api, username, 3)
    window = sign_in_throttle.Window.now()
    key = to_attributes(sign_in_throttle.counter_key(username, window))
    stored = from_attributes(client().get_item(TableName=table_name(), Key=key)["Item"])
    assert stored | {"PK": "", "SK": ""} == {"PK": "", "SK": "", "failures": 3, "expires_at": window.ends_at}


def test_other_usernames_are_not_affected(api: LocalApi, new_user: Any) -> None:
    _, victim, _ = new_user()
    _, bystander, password = new_user()
    fail(api, victim, 11)
    assert sign_in(api, bystander, password).status == 200


def test_the_count_is_per_normalised_username(api: LocalApi) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "Zoë"), unicodedata.normalize("NFD", "Zoë")
    fail(api, nfc, 5)
    assert fail(api, nfd, 6) == [401] * 5 + [429]


def test_sign_in_costs_one_read_and_a_failure_one_write(api: LocalApi, new_user: Any, dynamodb_calls: Any) -> None:
    _, username, password = new_user()
    dynamodb_calls.clear()
    assert sign_in(api, username, password).status == 200
    assert dynamodb_calls.operations == ["BatchGetItem"]
    dynamodb_calls.clear()
    fail(api, username, 1)
    assert dynamodb_calls.operations == ["BatchGetItem", "UpdateItem"]
