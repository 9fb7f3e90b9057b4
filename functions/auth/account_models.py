"""Request and response bodies of the signed-in user's own account (/api/me) and of sign-up, with
the lengths of Django's `User` model (its username and email rules: `shop_common.account_fields`),
so data moves between the two unchanged."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shop_common.account_fields import Email, Username

Name = Annotated[str, Field(max_length=150)]
Password = Annotated[str, Field(min_length=1, max_length=4096)]  # bounded: the KDF hashes it


class ProfileUpdate(BaseModel):
    """Only these fields: anything else (is_staff, is_active, username, ...) is a 400."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None

    def changes(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump(exclude_none=True).items()}


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    email: Email = ""
    first_name: Name = ""
    last_name: Name = ""


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password
