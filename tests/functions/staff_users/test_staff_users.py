"""Staff's user administration: GET /api/users and PATCH /api/users/{user_id}."""

import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import bearer, fresh_handler
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]


def sign_in(api: LocalApi, username: str, password: str = "correct horse battery") -> Any:
    return api.request("POST", "/api/auth", json_body={"username": username, "password": password})


@pytest.fixture
def staff(api: LocalApi, new_user: Any) -> tuple[int, Headers]:
    user_id, username, password = new_user("boss", is_staff=True)
    return user_id, bearer(sign_in(api, username, password).json()["access"])


def users(api: LocalApi, headers: Headers, query: str = "") -> Any:
    return api.request("GET", "/api/users", headers=headers, query_string=query)


def patch(api: LocalApi, headers: Headers, user_id: Any, body: Any) -> Any:
    return api.request("PATCH", f"/api/users/{user_id}", json_body=body, headers=headers)


def test_staff_list_users_in_username_order_by_prefix_page_by_page(
    api: LocalApi, new_user: Any, staff: tuple[int, Headers]
) -> None:
    _, headers = staff
    for name in ("carol", "alice", "albert", "bob", "alfred"):
        new_user(name)
    response = users(api, headers)
    assert response.status == 200
    assert [user["username"] for user in response.json()["results"]] == ["albert", "alfred", "alice", "bob", "boss", "carol"]
    assert response.json()["next"] is None
    assert set(response.json()["results"][0]) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
    }
    seen: list[str] = []
    query = "prefix=al&limit=2"
    while True:
        page = users(api, headers, query).json()
        seen += [user["username"] for user in page["results"]]
        if page["next"] is None:
            break
        query = urlsplit(page["next"]).query
        assert "prefix=al" in query
    assert seen == ["albert", "alfred", "alice"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=%%%", "cursor=YTE", f"prefix={'x' * 151}"])
def test_bad_listing_parameters_are_400(api: LocalApi, staff: tuple[int, Headers], query: str) -> None:
    response = users(api, staff[1], query)
    assert response.status == 400
    assert response.json()["errors"]


def test_non_staff_get_403_and_anonymous_401(api: LocalApi, new_user: Any) -> None:
    target, username, password = new_user("regular")
    headers = bearer(sign_in(api, username, password).json()["access"])
    for response in (users(api, headers), patch(api, headers, target, {"is_staff": True})):
        assert response.status == 403
        assert response.json() == {"detail": "You do not have permission to perform this action.", "code": "permission_denied"}
    assert users(api, {}).status == 401
    assert patch(api, {}, target, "not even json").status == 401
    assert sign_in(api, "regular").status == 200


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "cursor=%%%", "cursor=YTE", f"prefix={'x' * 151}"])
def test_a_customer_gets_403_on_the_user_listing_whatever_the_query(api: LocalApi, new_user: Any, query: str) -> None:
    """The role is checked before any parameter is parsed: a malformed one is no 400 for a customer."""
    _target, username, password = new_user("regular")
    headers = bearer(sign_in(api, username, password).json()["access"])
    assert users(api, headers, query).status == 403
    assert patch(api, headers, "abc", {"is_staff": "yes"}).status == 403
    assert users(api, {}, query).status == 401


def test_staff_deactivate_a_user_who_then_loses_access_and_reactivate_them(
    api: LocalApi, new_user: Any, staff: tuple[int, Headers]
) -> None:
    _, headers = staff
    target, username, password = new_user("mallory")
    tokens = sign_in(api, username, password).json()
    response = patch(api, headers, target, {"is_active": False})
    assert response.status == 200
    assert (response.json()["is_active"], response.json()["is_staff"]) == (False, False)
    assert sign_in(api, username, password).status == 401
    assert api.request("POST", "/api/refresh", json_body={"refresh": tokens["refresh"]}).status == 401
    assert patch(api, headers, target, {"is_active": True}).json()["is_active"] is True
    assert sign_in(api, username, password).status == 200


def test_staff_promote_a_user_who_can_then_list_users(api: LocalApi, new_user: Any, staff: tuple[int, Headers]) -> None:
    _, headers = staff
    target, username, password = new_user("deputy")
    assert patch(api, headers, target, {"is_staff": True}).json()["is_staff"] is True
    deputy = bearer(sign_in(api, username, password).json()["access"])
    assert users(api, deputy).status == 200
    assert patch(api, headers, target, {"is_staff": False}).status == 200
    assert users(api, deputy).status == 403  # a demotion counts from the next request


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": "false"}, "is_active"),
        ({"is_staff": 1}, "is_staff"),
        ({"username": "renamed"}, "username"),
        ({"email": "x@example.com"}, "email"),
        ([], "body"),
    ],
)
def test_staff_can_change_only_the_two_flags(
    api: LocalApi, new_user: Any, staff: tuple[int, Headers], body: Any, field: str
) -> None:
    target, username, _ = new_user("target")
    response = patch(api, staff[1], target, body)
    assert response.status == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert sign_in(api, username).status == 200


def test_staff_cannot_change_their_own_flags(api: LocalApi, staff: tuple[int, Headers]) -> None:
    staff_id, headers = staff
    response = patch(api, headers, staff_id, {"is_staff": False})
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "user_id", "message": "Staff cannot change their own active or staff status."}]
    assert users(api, headers).status == 200


@pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}])
def test_two_staff_demoting_each_other_at_once_leave_one_of_them_staff(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch, change: dict[str, bool]
) -> None:
    """Both requests pass the staff check, then both write: the write is conditioned on its
    author still being active staff, so exactly one wins and the other is a 403."""
    from staff_users import admin

    members = [new_user(name, is_staff=True) for name in ("ann", "ben")]
    headers = [bearer(sign_in(api, username, password).json()["access"]) for _, username, password in members]
    both_checked = threading.Barrier(2, timeout=60)
    from staff_users.store import save_flags as real_save_flags

    def save_once_both_were_let_in(*args: Any, **kwargs: Any) -> None:
        both_checked.wait()
        real_save_flags(*args, **kwargs)

    monkeypatch.setattr(admin, "save_flags", save_once_both_were_let_in)
    apis = [LocalApi({"StaffUsersFunction": fresh_handler("StaffUsersFunction")}) for _ in members]
    statuses = [0, 0]

    def demote_the_other(index: int) -> None:
        other_id = members[1 - index][0]
        statuses[index] = patch(apis[index], headers[index], other_id, change).status

    threads = [threading.Thread(target=demote_the_other, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 403]
    winner = statuses.index(200)
    monkeypatch.undo()
    assert users(api, headers[winner]).status == 200
    assert users(api, headers[1 - winner]).status in (401, 403)


def test_a_staff_change_needs_its_author_still_staff_when_it_is_written(
    api: LocalApi, new_user: Any, staff: tuple[int, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deactivated between the staff check and the write: nothing is written, 403."""
    from shopctl.accounts import set_active
    from staff_users import admin

    _staff_id, headers = staff
    target, _, _ = new_user("target")
    from staff_users.store import save_flags as real_save_flags

    def demoted_meanwhile(*args: Any, **kwargs: Any) -> None:
        set_active("boss", False)
        real_save_flags(*args, **kwargs)

    monkeypatch.setattr(admin, "save_flags", demoted_meanwhile)
    assert patch(api, headers, target, {"is_staff": True}).status == 403
    from shop_common.profiles import read_profile

    profile = read_profile(target)
    assert profile is not None
    assert profile.is_staff is False


@pytest.mark.parametrize("user_id", ["999999", "0", "abc", str(2**53)])
def test_unknown_or_invalid_user_ids(api: LocalApi, staff: tuple[int, Headers], user_id: str) -> None:
    response = patch(api, staff[1], user_id, {"is_active": False})
    assert response.status == (404 if user_id == "999999" else 400)


def test_listing_costs_a_bounded_number_of_calls(
    api: LocalApi, new_user: Any, staff: tuple[int, Headers], dynamodb_calls: Any
) -> None:
    for n in range(5):
        new_user(f"user{n}")
    dynamodb_calls.clear()
    first = users(api, staff[1], "limit=2").json()
    assert dynamodb_calls.operations == ["GetItem", "Query"]  # the caller's profile, one page
    assert dynamodb_calls.items_read == 1 + 3
    dynamodb_calls.clear()
    users(api, staff[1], urlsplit(first["next"]).query)
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "Query"]  # + where the cursor points
