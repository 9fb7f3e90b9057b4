"""Revoked access tokens: after a logout, a password change, a deactivation (staff API or
shopctl) or a deletion, the user's access tokens stop working on every signed-in route of every
function at the next request, for one DynamoDB read per request (shop_common.account_state)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jwt
import pytest

from conftest import REGION, TABLE_NAME, bearer
from shop_common.secrets import jwt_signing_key
from shopctl.cli import main as shopctl_main
from shoplocal.dynamodb_calls import Call, CallRecorder
from shoplocal.gateway.invoke import LocalApi

# shopctl points boto3 at its store through the environment; do not let that leak.
pytestmark = pytest.mark.usefixtures("restore_environment")

PASSWORD = "correct horse battery"
Headers = dict[str, str]


def shopctl(*args: str) -> int:
    return shopctl_main([*args, "--table", TABLE_NAME, "--region", REGION])


def sign_in(api: LocalApi, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = api.request("POST", "/api/auth", json_body={"username": username, "password": password})
    assert response.status == 200, response.body
    tokens: dict[str, str] = response.json()
    return tokens


def refresh(api: LocalApi, token: str) -> Any:
    return api.request("POST", "/api/refresh", json_body={"refresh": token})


class Shop:
    """What the signed-in routes need: a product, an order of the user's, another user."""

    def __init__(self, api: LocalApi, new_user: Any) -> None:
        from shop_common.catalog import add_products
        from shop_common.models import NewProduct

        (product,) = add_products([NewProduct(name="Mug", price=Decimal("3.00"), quantity=1000)])
        self.product = product.id
        # The user whose tokens are revoked is staff, so that the staff routes are tried too.
        self.user_id, self.username, _ = new_user("revoked", is_staff=True)
        self.other_id, _, _ = new_user("someone")
        self.other_staff_id, other_staff, _ = new_user("otherstaff", is_staff=True)
        self.other_staff = bearer(sign_in(api, other_staff)["access"])
        tokens = sign_in(api, self.username)
        self.access, self.refresh = tokens["access"], tokens["refresh"]
        order = {"parts": [{"product": self.product, "quantity_in_order": 1}]}
        placed = api.request("POST", "/api/order", json_body=order, headers=bearer(self.access))
        assert placed.status == 201
        self.order_id = placed.json()["id"]

    def routes(self) -> list[tuple[str, str, dict[str, Any]]]:
        """One request per signed-in route (method, path, arguments), each of which passes
        authentication with a live token: it succeeds, or is refused for its body or target
        (so that it changes nothing that the next trial depends on)."""
        parts = {"parts": [{"product": self.product, "quantity_in_order": 1}]}
        return [
            # orders function
            ("POST", "/api/order", {"json_body": parts}),
            ("POST", "/api/order/quote", {"json_body": parts}),
            ("GET", "/api/my-orders", {}),
            ("GET", f"/api/orders/{self.order_id}", {}),
            ("POST", "/api/orders/999999/cancel", {}),  # 404: no such order
            ("GET", "/api/orders", {"query_string": "limit=2"}),  # staff
            # auth function
            ("GET", "/api/me", {}),
            ("PATCH", "/api/me", {"json_body": {"first_name": "Rev"}}),
            ("POST", "/api/me/password", {"json_body": {"current_password": "not it", "new_password": "x" * 20}}),  # 400
            ("GET", "/api/users", {"query_string": "limit=2"}),  # staff
            ("PATCH", f"/api/users/{self.other_id}", {"json_body": {"is_staff": False}}),  # staff
            # catalogue admin function (staff)
            ("POST", "/api/products", {"json_body": {}}),  # 400: no fields
            ("PATCH", f"/api/products/{self.product}", {"json_body": {"name": "Mug"}}),
            # offers function (staff)
            ("POST", "/api/offers", {"json_body": {}}),  # 400
            ("GET", "/api/offers", {"query_string": "all=true"}),
        ]


@pytest.fixture
def shop(api: LocalApi, new_user: Any) -> Shop:
    return Shop(api, new_user)


def ask(api: LocalApi, route: tuple[str, str, dict[str, Any]], access: str) -> Any:
    method, path, arguments = route
    return api.request(method, path, headers=bearer(access), **arguments)


def assert_works_everywhere(api: LocalApi, shop: Shop, access: str) -> None:
    for route in shop.routes():
        status = ask(api, route, access).status
        assert status not in (401, 403), (route, status)
        assert status < 500, (route, status)


def assert_refused_everywhere(api: LocalApi, shop: Shop, access: str, code: str) -> None:
    for route in shop.routes():
        response = ask(api, route, access)
        assert response.status == 401, (route, response.status)
        assert response.json()["code"] == code, route


def log_out(api: LocalApi, shop: Shop) -> None:
    assert api.request("POST", "/api/logout", json_body={"refresh": shop.refresh}).status == 204


def change_password(api: LocalApi, shop: Shop) -> None:
    body = {"current_password": PASSWORD, "new_password": "a brand new passphrase 7"}
    assert api.request("POST", "/api/me/password", json_body=body, headers=bearer(shop.access)).status == 204


def set_password_with_shopctl(api: LocalApi, shop: Shop) -> None:
    assert shopctl("set-password", shop.username, "--password", "a brand new passphrase 7") == 0


def deactivate_by_staff(api: LocalApi, shop: Shop) -> None:
    response = api.request("PATCH", f"/api/users/{shop.user_id}", json_body={"is_active": False}, headers=shop.other_staff)
    assert response.status == 200


def deactivate_with_shopctl(api: LocalApi, shop: Shop) -> None:
    assert shopctl("deactivate-user", shop.username) == 0


def delete_with_shopctl(api: LocalApi, shop: Shop) -> None:
    assert shopctl("delete-user", shop.username, "--yes") == 0


Trigger = Callable[[LocalApi, Shop], None]
# Each trigger, and the code a revoked token then gets: simplejwt's `token_not_valid` (the
# client refreshes, which fails too, and signs in again), or `user_inactive` for an account that
# is gone or deactivated.
TRIGGERS: list[Any] = [
    pytest.param(log_out, "token_not_valid", id="logout"),
    pytest.param(change_password, "token_not_valid", id="password-change"),
    pytest.param(set_password_with_shopctl, "token_not_valid", id="shopctl-set-password"),
    pytest.param(deactivate_by_staff, "user_inactive", id="deactivation-by-staff"),
    pytest.param(deactivate_with_shopctl, "user_inactive", id="shopctl-deactivate-user"),
    pytest.param(delete_with_shopctl, "user_inactive", id="shopctl-delete-user"),
]


@pytest.mark.parametrize(("revoke", "code"), TRIGGERS)
def test_a_revoked_access_token_stops_working_on_every_signed_in_route_at_the_next_request(
    api: LocalApi, shop: Shop, revoke: Trigger, code: str
) -> None:
    assert_works_everywhere(api, shop, shop.access)
    revoke(api, shop)
    assert_refused_everywhere(api, shop, shop.access, code)
    # Its refresh token cannot mint a new access token either.
    assert refresh(api, shop.refresh).status == 401


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(change_password, id="password-change"),
        pytest.param(deactivate_by_staff, id="deactivation-by-staff"),
        pytest.param(deactivate_with_shopctl, id="shopctl-deactivate-user"),
    ],
)
def test_a_password_change_or_deactivation_revokes_every_sign_in_of_the_account_for_good(
    api: LocalApi, shop: Shop, revoke: Trigger
) -> None:
    """Other devices are signed out too, and reactivating the account does not bring old tokens
    back (the account moved to the next token generation)."""
    elsewhere = sign_in(api, shop.username)
    revoke(api, shop)
    assert shopctl("activate-user", shop.username) == 0
    for access in (shop.access, elsewhere["access"]):
        response = api.request("GET", "/api/my-orders", headers=bearer(access))
        assert (response.status, response.json()["code"]) == (401, "token_not_valid")
    assert refresh(api, elsewhere["refresh"]).json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}


def test_logout_signs_out_that_sign_in_only(api: LocalApi, shop: Shop) -> None:
    """The refresh token sent, the access tokens of its sign-in (also those refreshed later)
    stop; the user's other sign-ins keep working."""
    refreshed = refresh(api, shop.refresh).json()["access"]
    elsewhere = sign_in(api, shop.username)
    log_out(api, shop)
    for access in (shop.access, refreshed):
        response = api.request("GET", "/api/me", headers=bearer(access))
        assert response.status == 401
        assert response.json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    assert refresh(api, shop.refresh).json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    assert_works_everywhere(api, shop, elsewhere["access"])
    assert refresh(api, elsewhere["refresh"]).status == 200
    log_out(api, shop)  # again: still 204, nothing more to do


def test_logout_of_a_deleted_account_is_204_and_writes_nothing(api: LocalApi, shop: Shop) -> None:
    delete_with_shopctl(api, shop)
    log_out(api, shop)
    assert item(f"USER#{shop.user_id}", "PROFILE") is None


def test_tokens_of_a_sign_in_share_its_family_and_the_accounts_generation(api: LocalApi, shop: Shop) -> None:
    def claims(token: str) -> dict[str, Any]:
        decoded: dict[str, Any] = jwt.decode(token, jwt_signing_key(), algorithms=["HS256"])
        return decoded

    access, refresh_token = claims(shop.access), claims(shop.refresh)
    refreshed = claims(refresh(api, shop.refresh).json()["access"])
    assert access["fam"] == refresh_token["fam"] == refreshed["fam"]
    assert access["gen"] == refresh_token["gen"] == refreshed["gen"] == 0
    assert len({access["jti"], refresh_token["jti"], refreshed["jti"]}) == 3
    assert claims(sign_in(api, shop.username)["access"])["fam"] != access["fam"]  # another sign-in


def test_access_tokens_from_before_the_claims_existed_are_checked_against_the_account(api: LocalApi, shop: Shop) -> None:
    """No `gen` (generation 0) and no `fam`: it works until the account moves on."""
    import time

    now = int(time.time())
    legacy = {"token_type": "access", "user_id": shop.user_id, "iat": now, "exp": now + 300, "jti": "legacy"}
    token = jwt.encode(legacy, jwt_signing_key(), algorithm="HS256")
    assert api.request("GET", "/api/my-orders", headers=bearer(token)).status == 200
    change_password(api, shop)
    assert api.request("GET", "/api/my-orders", headers=bearer(token)).status == 401


# --- the cost: one read per signed-in request -------------------------------------------------


def account_reads(calls: list[Call], user_id: int) -> list[Call]:
    """The calls that read the caller's profile (by key or in a batch)."""
    return [
        call
        for call in calls
        if (call.operation == "GetItem" and call.params["Key"]["PK"]["S"] == f"USER#{user_id}")
        or (
            call.operation == "BatchGetItem"
            and any(
                key["PK"]["S"] == f"USER#{user_id}" for request in call.params["RequestItems"].values() for key in request["Keys"]
            )
        )
    ]


def test_each_signed_in_request_reads_the_account_once_first_and_a_revoked_one_nothing_else(
    api: LocalApi, shop: Shop, dynamodb_calls: CallRecorder
) -> None:
    """The check is one strongly consistent GetItem of one item before anything else; the staff
    check reuses it (no second read of `is_staff`), so staff routes cost what they did before it
    existed and every other signed-in route one GetItem more. A revoked token costs that one
    read and nothing else."""
    for route in shop.routes():
        dynamodb_calls.clear()
        assert ask(api, route, shop.access).status < 500
        first = dynamodb_calls.calls[0]
        assert first.operation == "GetItem", route
        assert first.params["Key"]["PK"]["S"] == f"USER#{shop.user_id}"
        assert first.params["ConsistentRead"] is True
        assert "token_generation" in first.params["ProjectionExpression"]
        assert first.items_read == 1
        others = account_reads(dynamodb_calls.calls[1:], shop.user_id)
        # Only /api/me reads the profile again, in full (what it answers or edits; read before too).
        if route[1].startswith("/api/me"):
            assert len(others) == 1, route
            assert "ProjectionExpression" not in others[0].params, route
        else:
            assert others == [], route
        assert not any("is_staff" in call.params.get("ProjectionExpression", "") for call in dynamodb_calls.calls[1:])
    log_out(api, shop)
    for route in shop.routes():
        dynamodb_calls.clear()
        assert ask(api, route, shop.access).status == 401
        assert dynamodb_calls.operations == ["GetItem"], route


def test_a_refresh_still_costs_one_call(api: LocalApi, shop: Shop, dynamodb_calls: CallRecorder) -> None:
    dynamodb_calls.clear()
    assert refresh(api, shop.refresh).status == 200
    assert dynamodb_calls.operations == ["BatchGetItem"]


# --- logout's record: bounded --------------------------------------------------------------------


def item(partition: str, sort: str) -> dict[str, Any] | None:
    from shop_common.dynamo import client, from_attributes, to_attributes
    from shop_common.settings import table_name

    found = client().get_item(TableName=table_name(), Key=to_attributes({"PK": partition, "SK": sort}), ConsistentRead=True)
    return from_attributes(found["Item"]) if "Item" in found else None


def test_a_logout_is_one_call_once_the_account_has_signed_out_before(
    api: LocalApi, shop: Shop, dynamodb_calls: CallRecorder
) -> None:
    log_out(api, shop)  # the first: the map is created (a failed update, a read, a create)
    second = sign_in(api, shop.username)
    dynamodb_calls.clear()
    assert api.request("POST", "/api/logout", json_body={"refresh": second["refresh"]}).status == 204
    assert dynamodb_calls.operations == ["UpdateItem"]
    profile = item(f"USER#{shop.user_id}", "PROFILE")
    assert profile is not None
    assert len(profile["signed_out"]) == 2


def test_the_map_of_signed_out_sign_ins_drops_expired_entries_when_full(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    from auth import sign_outs

    monkeypatch.setattr(sign_outs, "MAX_SIGNED_OUT", 3)
    for family, until in (("old1", 100), ("old2", 200), ("live", 5000)):
        sign_outs.sign_out(shop.user_id, family, until, now=50)
    sign_outs.sign_out(shop.user_id, "new", 6000, now=1000)  # full: the two expired entries go
    profile = item(f"USER#{shop.user_id}", "PROFILE")
    assert profile is not None
    assert profile["signed_out"] == {"live": 5000, "new": 6000}
    assert profile.get("token_generation", 0) == 0


def test_a_logout_that_finds_the_map_full_of_live_sign_ins_signs_out_everywhere(
    api: LocalApi, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import sign_outs

    monkeypatch.setattr(sign_outs, "MAX_SIGNED_OUT", 2)
    sign_ins = [sign_in(api, shop.username) for _ in range(3)]
    untouched = sign_in(api, shop.username)
    for tokens in sign_ins[:2]:
        assert api.request("POST", "/api/logout", json_body={"refresh": tokens["refresh"]}).status == 204
    assert api.request("GET", "/api/me", headers=bearer(untouched["access"])).status == 200
    assert api.request("POST", "/api/logout", json_body={"refresh": sign_ins[2]["refresh"]}).status == 204
    profile = item(f"USER#{shop.user_id}", "PROFILE")
    login = item(f"USERNAME#{shop.username}", "USERNAME")
    assert profile is not None
    assert login is not None
    assert "signed_out" not in profile
    assert profile["token_generation"] == login["token_generation"] == 1
    assert api.request("GET", "/api/me", headers=bearer(untouched["access"])).status == 401
    # Signing in again works, in the new generation.
    assert api.request("GET", "/api/me", headers=bearer(sign_in(api, shop.username)["access"])).status == 200
