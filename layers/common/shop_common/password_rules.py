"""Django's default password validators, with Django's messages: minimum length 8, not too
similar to the username, names or email, not a common password, not entirely numeric.

The common-password list is the one Django ships (20,000 passwords, lower-cased, compiled by
Royce Williams), read once per container on first use.
"""

import gzip
import re
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_SIMILARITY = 0.7
_COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
# Attribute name -> the words Django's messages use for it (its User model's verbose names).
_SIMILARITY_ATTRIBUTES = {"username": "username", "first_name": "first name", "last_name": "last name", "email": "email address"}


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines)


def _exceeds_maximum_length_ratio(password: str, value: str) -> bool:
    # Django's shortcut: a password 10 times longer than the value cannot be 0.7 similar to it.
    return len(password) >= 10 * len(value) and len(value) < MAX_SIMILARITY / 2 * len(password)


def _too_similar_to(password: str, user: dict[str, str]) -> str | None:
    password = password.lower()
    for attribute, words in _SIMILARITY_ATTRIBUTES.items():
        value = (user.get(attribute) or "").lower()
        if not value:
            continue
        for part in [*re.split(r"\W+", value), value]:
            if _exceeds_maximum_length_ratio(password, part):
                continue
            if SequenceMatcher(a=password, b=part).quick_ratio() >= MAX_SIMILARITY:
                return words
    return None


def password_problems(password: str, user: dict[str, str]) -> list[str]:
    """Every rule the password breaks, in Django's order and words (empty: acceptable).
    `user` holds the account's username, first_name, last_name and email."""
    problems = []
    similar_to = _too_similar_to(password, user)
    if similar_to:
        problems.append(f"The password is too similar to the {similar_to}.")
    if len(password) < MIN_LENGTH:
        problems.append(f"This password is too short. It must contain at least {MIN_LENGTH} characters.")
    if password.lower().strip() in _common_passwords():
        problems.append("This password is too common.")
    if password.isdigit():
        problems.append("This password is entirely numeric.")
    return problems
