"""Domain errors. Logic raises these; `shop_common.api` turns them into JSON responses.

Every error body has a human-readable `detail`; errors about the request's content also list
the offending fields in `errors`. An error the Django app also answered carries that app's own
keys too (`original`: `order_part`, `product_id`, `parts`, `non_field_errors`, per-field lists),
so a client of either API finds what it reads; ours win where a name is shared.
"""

from typing import Any


class ShopError(Exception):
    status_code = 400

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        code: str | None = None,
        original: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.code = code
        self.original = original

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {**(self.original or {}), "detail": self.detail}
        if self.code:
            body["code"] = self.code
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class InvalidRequest(ShopError):
    """The request is well-formed JSON but cannot be carried out as asked (400)."""

    status_code = 400


class AuthenticationFailed(ShopError):
    """Missing, invalid or expired credentials (401)."""

    status_code = 401


class PermissionDenied(ShopError):
    """Signed in, but not allowed (403): a customer on a staff route."""

    status_code = 403


class NotFound(ShopError):
    status_code = 404


class Conflict(ShopError):
    """A concurrent change won; the client may retry (409)."""

    status_code = 409


class ServiceBusy(ShopError):
    """DynamoDB is throttling us even after retries; the client should retry shortly (503)."""

    status_code = 503

    def __init__(self, reason: str) -> None:
        super().__init__("The service is busy; please retry shortly.")
        self.reason = reason  # for the log, not the client


class TooManyAttempts(ShopError):
    """Too many failed attempts in a while; the client may retry after `retry_after` seconds (429)."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, code="too_many_attempts")
        self.retry_after = retry_after
