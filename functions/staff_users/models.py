"""The staff users API's bodies: the flags staff may change, and a page of users."""

from pydantic import BaseModel, ConfigDict, Field

from shop_common.models import UserProfile


class UserFlags(BaseModel):
    """What staff may change on another account (PATCH /api/users/{user_id})."""

    model_config = ConfigDict(extra="forbid", strict=True)

    is_active: bool | None = None
    is_staff: bool | None = None


class ListedUser(UserProfile):
    is_active: bool


class UsersPage(BaseModel):
    results: list[ListedUser]
    next: str | None = Field(description="The next page's URL, or null on the last page")
