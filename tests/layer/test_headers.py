"""The one accessor of request headers (shop_common.headers): a name is found whatever the case
of the event's names, checked against a simple oracle on random header sets."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop_common.headers import header, with_header

# Header names as clients write them: tokens of letters, digits and dashes.
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
HEADER_SETS = st.dictionaries(NAMES, st.text(max_size=20), max_size=12)


def respelled(name: str, data: st.DataObject) -> str:
    """`name` with each letter in a case hypothesis chooses."""
    return "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in name)


def oracle(headers: dict[str, str], name: str) -> str | None:
    values = [value for key, value in headers.items() if key.lower() == name.lower()]
    return ",".join(values) if values else None


@given(headers=HEADER_SETS, name=NAMES)
def test_a_header_is_found_whatever_the_case_of_either_name(headers: dict[str, str], name: str) -> None:
    assert header(headers, name) == oracle(headers, name)


@given(name=NAMES, value=st.text(max_size=20), data=st.data())
def test_the_spelling_sent_is_found_by_the_spelling_asked(name: str, value: str, data: st.DataObject) -> None:
    assert header({respelled(name, data): value}, respelled(name, data)) == value


@pytest.mark.parametrize(
    ("sent", "asked"),
    [
        ("authorization", "Authorization"),  # API Gateway
        ("Authorization", "Authorization"),  # sam local start-api, as the client wrote it
        ("AUTHORIZATION", "authorization"),
        ("idempotency-KEY", "Idempotency-Key"),
        ("content-Type", "Content-Type"),
        ("ORIGIN", "Origin"),
    ],
)
def test_the_spellings_the_gateways_pass(sent: str, asked: str) -> None:
    assert header({sent: "value", "other": "x"}, asked) == "value"


def test_two_spellings_of_one_name_are_joined_so_a_token_cannot_be_picked() -> None:
    assert header({"authorization": "Bearer a", "Authorization": "Bearer b"}, "Authorization") == "Bearer a,Bearer b"


@pytest.mark.parametrize("headers", [None, "authorization: x", ["authorization"], 3])
def test_no_headers_or_a_malformed_field_hold_no_header(headers: Any) -> None:
    assert header(headers, "Authorization") is None


@given(headers=HEADER_SETS, name=NAMES, value=st.text(max_size=20))
def test_with_header_replaces_every_spelling_and_keeps_the_rest(headers: dict[str, str], name: str, value: str) -> None:
    changed = with_header(headers, name, value)
    assert header(changed, name) == value
    assert changed[name.lower()] == value
    assert {key: item for key, item in changed.items() if key.lower() != name.lower()} == {
        key: item for key, item in headers.items() if key.lower() != name.lower()
    }
