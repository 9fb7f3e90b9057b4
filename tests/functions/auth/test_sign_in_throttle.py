"""The sign-in throttle: 10 failed sign-ins per username in any 15 minutes, then 429."""

import threading
import unicodedata
from collections import Counter
from typing import Any

import pytest

from conftest import fresh_handler
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
    from shop_common import passwords

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
    from auth import sign_in_throttle

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
    assert dynamodb_calls.operations == ["BatchGetItem", "UpdateItem", "DeleteItem"]
    assert fail(api, username, 10) == [401] * 10  # a fresh count of ten


def test_tries_expire_by_ttl_once_the_newest_has_left_the_window(
    new_user: Any, api: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import sign_in_throttle
    from shop_common.dynamo import client, from_attributes, to_attributes
    from shop_common.settings import table_name

    _, username, _ = new_user()
    monkeypatch.setattr(sign_in_throttle, "_clock", lambda: 1_800_000_000.5)
    fail(api, username, 3)
    key = to_attributes(sign_in_throttle.counter_key(username))
    stored = from_attributes(client().get_item(TableName=table_name(), Key=key)["Item"])
    taken = sorted(value for name, value in stored.items() if name.startswith("try"))
    assert taken == [1_800_000_000] * 3
    assert stored["expires_at"] == 1_800_000_000 + 2 * sign_in_throttle.WINDOW_SECONDS


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_failures_across_a_quarter_hour_boundary_are_counted_together(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """11 failures spread over 12:59:55-13:00:05: the 11th is a 429 (no window starts at 13:00)."""
    from auth import sign_in_throttle

    one_pm = 1_800_003_600  # a multiple of 15 minutes
    assert one_pm % sign_in_throttle.WINDOW_SECONDS == 0
    clock = Clock(one_pm - 5)
    monkeypatch.setattr(sign_in_throttle, "_clock", clock)
    _, username, password = new_user()
    assert fail(api, username, 5) == [401] * 5
    clock.now = one_pm + 5
    assert fail(api, username, 6) == [401] * 5 + [429]
    assert sign_in(api, username, password).status == 429


def test_the_window_slides_one_failure_at_a_time(api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One failure at t, nine at t+10 min: at t+15 min one more try is checked, the next is 429
    until t+25 min; Retry-After says when."""
    from auth import sign_in_throttle

    window = sign_in_throttle.WINDOW_SECONDS
    start = 1_800_000_000
    clock = Clock(start)
    monkeypatch.setattr(sign_in_throttle, "_clock", clock)
    _, username, password = new_user()
    fail(api, username, 1)
    clock.now = start + 600
    assert fail(api, username, 9) == [401] * 9
    clock.now = start + window - 1
    throttled = sign_in(api, username, password)
    assert (throttled.status, throttled.headers["retry-after"]) == (429, "1")
    clock.now = start + window
    assert fail(api, username, 2) == [401, 429]
    assert sign_in(api, username, password).headers["retry-after"] == str(600)
    clock.now = start + 600 + window
    assert sign_in(api, username, password).status == 200


def test_concurrent_wrong_passwords_are_checked_at_most_ten_times(api: LocalApi, new_user: Any) -> None:
    """40 wrong passwords for one username at once, each from its own container: exactly 10 are
    checked (401), the rest are 429 before any password check."""
    _, username, _ = new_user()
    count = 40
    apis = [LocalApi({"AuthFunction": fresh_handler("AuthFunction")}) for _ in range(count)]
    start = threading.Barrier(count)
    statuses = [0] * count

    def guess(index: int) -> None:
        start.wait()
        statuses[index] = sign_in(apis[index], username, f"guess {index}").status

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {401: 10, 429: 30}
    assert fail(api, username, 1) == [429]


def test_other_usernames_are_not_affected(api: LocalApi, new_user: Any) -> None:
    _, victim, _ = new_user()
    _, bystander, password = new_user()
    fail(api, victim, 11)
    assert sign_in(api, bystander, password).status == 200


def test_the_count_is_per_normalised_username(api: LocalApi) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "Zoë"), unicodedata.normalize("NFD", "Zoë")
    fail(api, nfc, 5)
    assert fail(api, nfd, 6) == [401] * 5 + [429]


def test_sign_in_costs_one_read_and_a_reservation_and_a_success_one_more_write(
    api: LocalApi, new_user: Any, dynamodb_calls: Any
) -> None:
    _, username, password = new_user()
    dynamodb_calls.clear()
    assert sign_in(api, username, password).status == 200
    assert dynamodb_calls.operations == ["BatchGetItem", "UpdateItem", "DeleteItem"]
    dynamodb_calls.clear()
    fail(api, username, 1)
    assert dynamodb_calls.operations == ["BatchGetItem", "UpdateItem"]
    fail(api, username, 9)
    dynamodb_calls.clear()
    fail(api, username, 1)
    assert dynamodb_calls.operations == ["BatchGetItem"]  # throttled: nothing written
