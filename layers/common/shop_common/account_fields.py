"""A username and an email as Django's `User` model accepts them (the auth function's bodies and
`shopctl`'s account commands check the same rules), so data moves between the two unchanged."""

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# Django's EmailValidator: a dot-atom or quoted local part, and a domain of LDH labels. ASCII
# only (re.ASCII): with IGNORECASE alone, [A-Z] also matches four non-ASCII letters (U+017F long
# s, U+0131 dotless i, U+0130 dotted capital I, U+212A Kelvin sign), so `bus@` with a long s
# beside `bus@`, or `bi@` with a dotless i beside `bi@`, were two addresses to the uniqueness
# check (which lower-cases) but one to a reader. ASCII lower-casing is then the
# full case-fold, and the claim EMAIL#<lower-cased address> compares addresses without case.
_EMAIL_USER = re.compile(
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
    re.IGNORECASE | re.ASCII,
)
_EMAIL_DOMAIN = re.compile(r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z", re.IGNORECASE | re.ASCII)


def _valid_email(value: str) -> str:
    """An email as Django accepts it, its domain lower-cased (as Django normalises it); "" clears it."""
    if not value:
        return value
    user, at, domain = value.rpartition("@")
    if not at or not _EMAIL_USER.match(user) or not _EMAIL_DOMAIN.match(domain):
        raise PydanticCustomError("email", "Enter a valid email address.")
    return f"{user}@{domain.lower()}"


Email = Annotated[str, Field(max_length=254), AfterValidator(_valid_email)]

# Django's UnicodeUsernameValidator, applied (with the length) after Django's NFKC normalisation.
_USERNAME = re.compile(r"^[\w.@+-]+\Z")


def _valid_username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value)
    if len(value) > 150:
        raise PydanticCustomError("username", "Ensure this value has at most 150 characters.")
    if not _USERNAME.match(value):
        raise PydanticCustomError(
            "username", "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
        )
    return value


Username = Annotated[str, Field(min_length=1, max_length=600), AfterValidator(_valid_username)]
