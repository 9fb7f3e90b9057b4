"""The staff check every staff route makes: a signed-in user's `is_staff` and `is_active` flags.

A token names only the user id, so the flags come from the profile item: the read the request's
sign-in check already made (`shop_common.account_state`, strongly consistent, moments ago), or
else one GetItem of them. So a revoked staff flag or a deactivated account takes effect at the
next request, and a staff request costs one read in all. Each function that reads them is
granted only these attributes of profiles (template.yaml).
"""

from shop_common.account_state import INACTIVE_MESSAGE, AccountState, account_of_request, read_account_state
from shop_common.errors import AuthenticationFailed, PermissionDenied


def _account(user_id: int) -> AccountState | None:
    return account_of_request(user_id) or read_account_state(user_id)


def is_active_staff(user_id: int) -> bool:
    """Whether the user is staff with an active account (at most one GetItem)."""
    account = _account(user_id)
    return account is not None and account.is_active and account.is_staff


def require_staff(user_id: int) -> None:
    """A deleted or deactivated account is a 401 (as for refresh and orders), a customer a 403."""
    require_staff_account(_account(user_id))


def require_staff_account(account: AccountState | None) -> None:
    """As `require_staff`, for an account already read."""
    if account is None or not account.is_active:
        raise AuthenticationFailed(INACTIVE_MESSAGE, code="user_inactive")
    if not account.is_staff:
        raise PermissionDenied("You do not have permission to perform this action.", code="permission_denied")
