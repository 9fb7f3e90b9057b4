"""The new-password rules against Django's own validators (the oracle): the same verdicts and
the same messages, in the same order, for passwords near the user's data, common, numeric, short."""

import gzip
from pathlib import Path

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shop_common.password_rules import password_problems

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
        USE_I18N=False,
        AUTH_PASSWORD_VALIDATORS=[
            {"NAME": f"django.contrib.auth.password_validation.{name}"}
            for name in (
                "UserAttributeSimilarityValidator",
                "MinimumLengthValidator",
                "CommonPasswordValidator",
                "NumericPasswordValidator",
            )
        ],
    )
    django.setup()

from django.contrib.auth.models import User  # type: ignore[import-untyped]
from django.contrib.auth.password_validation import validate_password  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError  # type: ignore[import-untyped]

with gzip.open(Path(__file__).parents[2] / "layers/common/shop_common/common-passwords.txt.gz", "rt") as listed:
    COMMON = sorted(listed.read().split())[:2000]


def djangos_verdict(password: str, user: dict[str, str]) -> list[str]:
    try:
        validate_password(password, User(**user))
    except ValidationError as error:
        return list(error.messages)
    return []


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP0123456789._-", min_size=0, max_size=14)
users = st.fixed_dictionaries(
    {
        "username": words.filter(bool),
        "first_name": words,
        "last_name": words,
        "email": st.one_of(st.just(""), st.builds(lambda a, b: f"{a}@{b}.example", words.filter(bool), words.filter(bool))),
    }
)


@st.composite
def user_and_password(draw: st.DrawFn) -> tuple[dict[str, str], str]:
    user = draw(users)
    near_the_user = st.builds(
        lambda value, start, suffix: value[start:] + suffix,
        st.sampled_from([value for value in user.values() if value] or ["x"]),
        st.integers(0, 3),
        st.text(alphabet="0123456789!x", max_size=6),
    )
    password = draw(
        st.one_of(
            near_the_user,
            st.sampled_from(COMMON),
            st.sampled_from(COMMON).map(str.upper),
            st.text(alphabet="0123456789", min_size=1, max_size=12),
            st.text(min_size=0, max_size=20),
        )
    )
    return user, password


@hypothesis_settings(max_examples=400, derandomize=True, deadline=None)
@given(user_and_password())
def test_password_rules_agree_with_django(case: tuple[dict[str, str], str]) -> None:
    user, password = case
    assert password_problems(password, user) == djangos_verdict(password, user)
