"""Password hashing: Django's format, OWASP work factor, equal work for unknown users."""

import hashlib
from typing import Any

import pytest

from auth.sessions import sign_in
from shop_common import passwords
from shop_common.errors import AuthenticationFailed


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The iteration count of every PBKDF2 derivation made."""
    counts: list[int] = []
    real = hashlib.pbkdf2_hmac

    def counting(name: str, password: bytes, salt: bytes, iterations: int, *args: Any) -> bytes:
        counts.append(iterations)
        return real(name, password, salt, 1, *args)  # one round: the count is what is under test

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    return counts


def test_default_work_factor_is_owasps_600k(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the suite-wide fast hashing fixture
    assert passwords.ITERATIONS == 600_000
    assert passwords.hash_password("pw").startswith("pbkdf2_sha256$600000$")


def test_hash_is_salted_and_in_djangos_format() -> None:
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first != second
    algorithm, iterations, salt, digest = first.split("$")
    assert (algorithm, iterations, len(salt)) == ("pbkdf2_sha256", str(passwords.ITERATIONS), 22)
    assert salt.isalnum()
    assert len(digest) == 44
    assert passwords.verify_password("same", first)
    assert not passwords.verify_password("Same", first)


@pytest.mark.parametrize(
    "encoded",
    [None, "", "md5$1$salt$abc", "pbkdf2_sha256$x$salt$abc", "pbkdf2_sha256$0$salt$abc", "pbkdf2_sha256$99999999999$s$a", "a$b"],
)
def test_unknown_or_malformed_hashes_never_verify_but_cost_full_work(encoded: str | None, derivations: list[int]) -> None:
    assert passwords.verify_password("anything", encoded) is False
    assert derivations == [passwords.ITERATIONS]


def test_sign_in_does_the_same_work_for_unknown_users_as_for_wrong_passwords(new_user: Any, derivations: list[int]) -> None:
    _, username, _ = new_user()
    derivations.clear()
    for name in (username, "nobody-here"):
        with pytest.raises(AuthenticationFailed):
            sign_in(name, "wrong")
    assert derivations == [passwords.ITERATIONS, passwords.ITERATIONS]
