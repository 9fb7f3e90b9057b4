"""The offers API: GET /api/offers (public; staff `?all=true`), staff POST /api/offers, PATCH and
DELETE /api/offers/{offer_id}. Permissions, success, bad input (4xx, nothing changed), the cap
on live offers (also under concurrent staff requests), and the calls each request costs."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import fresh_handler
from shop_common import settings
from shop_common.dynamo import client, from_attributes, to_attributes
from shop_common.offer_store import MAX_LIVE_OFFERS, active_offers, offer_key, usage_writes
from shoplocal.gateway.invoke import LocalApi

Headers = dict[str, str]
NOW = datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


BOGO = {
    "kind": "buy_x_get_y",
    "name": "Buy one mug, get one free",
    "starts_at": iso(NOW - timedelta(days=1)),
    "buy_products": [1],
    "buy_quantity": 1,
    "get_products": [1],
    "get_quantity": 1,
}
TEN_OFF = {"kind": "percent_off", "name": "Ten off", "starts_at": iso(NOW - timedelta(hours=1)), "percent": "10"}
FIVE_OFF = {"kind": "amount_off", "name": "Five off fifty", "starts_at": iso(NOW - timedelta(hours=1)), "amount": "5"}


def table_items() -> list[dict[str, Any]]:
    """Every item of the test table (a Scan: test code only), to show a request changed nothing."""
    items: list[dict[str, Any]] = client().scan(TableName=settings.table_name())["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def stored_offer(offer_id: int) -> dict[str, Any]:
    response = client().get_item(TableName=settings.table_name(), Key=to_attributes(offer_key(offer_id)), ConsistentRead=True)
    return from_attributes(response["Item"])


@pytest.fixture
def staff(signed_in: Any) -> Headers:
    _, headers = signed_in(is_staff=True)
    result: Headers = headers
    return result


@pytest.fixture
def customer(signed_in: Any) -> Headers:
    _, headers = signed_in()
    result: Headers = headers
    return result


def add(api: LocalApi, staff: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = api.request("POST", "/api/offers", json_body=body, headers=staff)
    assert response.status == 201, response.body
    added: dict[str, Any] = response.json()
    return added


def public(api: LocalApi) -> list[dict[str, Any]]:
    response = api.request("GET", "/api/offers")
    assert response.status == 200, response.body
    offers: list[dict[str, Any]] = response.json()
    return offers


# --- permissions ------------------------------------------------------------------------------


def staff_requests() -> list[tuple[str, str, Any, str]]:
    return [
        ("POST", "/api/offers", TEN_OFF, ""),
        ("PATCH", "/api/offers/1", {"name": "Renamed"}, ""),
        ("DELETE", "/api/offers/1", None, ""),
        ("GET", "/api/offers", None, "all=true"),
    ]


def test_anonymous_staff_requests_are_401_and_cost_no_call(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    add(api, staff, TEN_OFF)
    before = table_items()
    dynamodb_calls.clear()
    for method, path, body, query in staff_requests():
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = api.request(method, path, json_body=body, headers=headers, query_string=query)
            assert response.status == 401, (method, path, response.body)
            assert response.json()["detail"]
    assert dynamodb_calls.calls == []
    assert table_items() == before


def test_customers_are_403_after_one_getitem_and_change_nothing(
    api: LocalApi, staff: Headers, customer: Headers, dynamodb_calls: Any
) -> None:
    add(api, staff, TEN_OFF)
    before = table_items()
    for method, path, body, query in staff_requests():
        dynamodb_calls.clear()
        response = api.request(method, path, json_body=body, headers=customer, query_string=query)
        assert response.status == 403, (method, path, response.body)
        assert response.json()["code"] == "permission_denied"
        assert dynamodb_calls.operations == ["GetItem"]
    assert table_items() == before


def test_anyone_reads_the_current_offers_with_one_query(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    add(api, staff, TEN_OFF)
    dynamodb_calls.clear()
    (offer,) = public(api)
    assert offer["name"] == "Ten off"
    assert dynamodb_calls.operations == ["Query"]


# --- POST ---------------------------------------------------------------------------------------


def test_staff_add_offers_of_each_kind(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    dynamodb_calls.clear()
    bogo = add(api, staff, BOGO)
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "TransactWriteItems"]  # staff, registry, write
    assert bogo == {
        **BOGO,
        "id": 1,
        "starts_at": BOGO["starts_at"],
        "ends_at": None,
        "priority": 0,
        "stacks": False,
        "max_uses": None,
        "max_uses_per_customer": None,
        "get_percent": 100.0,  # amounts and percentages: exact JSON numbers
        "max_applications": None,
        "version": 1,
        "times_used": None,  # no limit: nothing counts its uses
    }
    ten = add(api, staff, {**TEN_OFF, "max_uses": 100, "priority": 5})
    five = add(api, staff, FIVE_OFF)
    assert (ten["id"], ten["times_used"], ten["products"]) == (2, 0, None)
    assert (five["id"], five["amount"], five["min_subtotal"]) == (3, 5.0, 0.0)
    assert [offer["id"] for offer in public(api)] == [2, 1, 3]  # priority first, then id
    assert public(api) == [ten, bogo, five]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**TEN_OFF, "percent": "0"}, "percent_off.percent"),
        ({**TEN_OFF, "percent": "100.5"}, "percent_off.percent"),
        ({**TEN_OFF, "percent": "12.345"}, "percent_off.percent"),
        ({**TEN_OFF, "products": []}, "percent_off.products"),
        ({**TEN_OFF, "products": [1, 1]}, "percent_off"),
        ({**TEN_OFF, "starts_at": "2026-01-01T00:00:00"}, "percent_off.starts_at"),  # no time zone
        ({**TEN_OFF, "ends_at": TEN_OFF["starts_at"]}, "percent_off"),  # an empty window
        ({**TEN_OFF, "id": 7}, "percent_off.id"),
        ({**TEN_OFF, "max_uses": 0}, "percent_off.max_uses"),
        ({**BOGO, "buy_quantity": 0}, "buy_x_get_y.buy_quantity"),
        ({**BOGO, "get_products": list(range(1, 52))}, "buy_x_get_y.get_products"),
        ({**FIVE_OFF, "amount": "0"}, "amount_off.amount"),
        ({**FIVE_OFF, "amount": "1.005"}, "amount_off.amount"),
        ({**TEN_OFF, "kind": "free_lunch"}, "body"),
        ({"name": "No kind"}, "body"),
        ("ten off", "body"),
        # Each value in its JSON type, as the catalogue and users APIs take them.
        ({**TEN_OFF, "percent": "1e2"}, "percent_off.percent"),
        ({**TEN_OFF, "percent": " 10 "}, "percent_off.percent"),
        ({**TEN_OFF, "percent": True}, "percent_off.percent"),
        ({**TEN_OFF, "stacks": "yes"}, "percent_off.stacks"),
        ({**TEN_OFF, "stacks": 1}, "percent_off.stacks"),
        ({**TEN_OFF, "priority": "5"}, "percent_off.priority"),
        ({**TEN_OFF, "priority": True}, "percent_off.priority"),
        ({**TEN_OFF, "max_uses": "5"}, "percent_off.max_uses"),
        ({**TEN_OFF, "products": ["1"]}, "percent_off.products.0"),
        ({**TEN_OFF, "starts_at": 1767225600}, "percent_off.starts_at"),
        ({**BOGO, "buy_quantity": "2"}, "buy_x_get_y.buy_quantity"),
        ({**FIVE_OFF, "amount": "5e0"}, "amount_off.amount"),
        ({**FIVE_OFF, "min_subtotal": False}, "amount_off.min_subtotal"),
    ],
)
def test_bad_offers_are_400_naming_the_field_and_change_nothing(
    api: LocalApi, staff: Headers, body: Any, field: str, dynamodb_calls: Any
) -> None:
    before = table_items()
    dynamodb_calls.clear()
    response = api.request("POST", "/api/offers", json_body=body, headers=staff)
    assert response.status == 400, response.body
    assert response.json()["detail"]
    assert field in [error["field"] for error in response.json()["errors"]]
    assert dynamodb_calls.operations == ["GetItem"]  # the staff check only
    assert table_items() == before


def test_a_validators_own_message_comes_without_pydantics_value_error_prefix(api: LocalApi, staff: Headers) -> None:
    response = api.request("POST", "/api/offers", json_body={**TEN_OFF, "ends_at": TEN_OFF["starts_at"]}, headers=staff)
    assert [error["message"] for error in response.json()["errors"]] == ["ends_at must be after starts_at"]
    add(api, staff, TEN_OFF)
    changed = api.request("PATCH", "/api/offers/1", json_body={"ends_at": "2000-01-01T00:00:00Z"}, headers=staff)
    assert [error["message"] for error in changed.json()["errors"]] == ["ends_at must be after starts_at"]


def test_json_numbers_are_taken_and_written_back_without_an_exponent(api: LocalApi, staff: Headers) -> None:
    body = {**TEN_OFF, "percent": 1e2, "priority": 3.0, "max_uses": 5, "stacks": True}
    response = api.request("POST", "/api/offers", json_body=body, headers=staff)
    assert response.status == 201, response.body
    added = response.json()
    assert (added["percent"], added["priority"], added["max_uses"], added["stacks"]) == (100, 3, 5, True)
    assert '"percent":100.0' in response.body  # the number written out, not 1E+2
    changed = api.request("PATCH", f"/api/offers/{added['id']}", json_body={"percent": 12.5}, headers=staff)
    assert changed.json()["percent"] == 12.5
    assert '"percent":12.5' in changed.body


def test_at_most_the_cap_of_offers_run_or_are_scheduled_at_once(api: LocalApi, staff: Headers) -> None:
    for n in range(MAX_LIVE_OFFERS - 1):
        add(api, staff, {**TEN_OFF, "name": f"Offer {n}"})
    scheduled = add(api, staff, {**TEN_OFF, "starts_at": iso(NOW + timedelta(days=7))})  # scheduled ones count
    before = table_items()
    response = api.request("POST", "/api/offers", json_body=TEN_OFF, headers=staff)
    assert response.status == 409
    assert response.json()["code"] == "too_many_offers"
    assert table_items() == before
    # An offer that has already ended does not count (a record of a past campaign).
    add(api, staff, {**TEN_OFF, "starts_at": iso(NOW - timedelta(days=9)), "ends_at": iso(NOW - timedelta(days=8))})
    # Ending one (an edit) or deleting one makes room.
    assert api.request("DELETE", f"/api/offers/{scheduled['id']}", headers=staff).status == 204
    add(api, staff, TEN_OFF)
    response = api.request("PATCH", "/api/offers/1", json_body={"ends_at": iso(NOW - timedelta(seconds=1))}, headers=staff)
    assert response.status == 200, response.body
    add(api, staff, TEN_OFF)
    assert api.request("POST", "/api/offers", json_body=TEN_OFF, headers=staff).status == 409
    # An ended offer cannot come back beyond the cap either.
    response = api.request("PATCH", "/api/offers/1", json_body={"ends_at": None}, headers=staff)
    assert response.status == 409
    assert len(public(api)) == MAX_LIVE_OFFERS


def test_concurrent_staff_requests_never_exceed_the_cap(api: LocalApi, staff: Headers) -> None:
    for n in range(MAX_LIVE_OFFERS - 2):
        add(api, staff, {**TEN_OFF, "name": f"Offer {n}"})
    count = 8
    apis = [LocalApi({"OffersFunction": fresh_handler("OffersFunction")}) for _ in range(count)]
    start = threading.Barrier(count)
    statuses = [0] * count

    def send(index: int) -> None:
        start.wait()
        statuses[index] = apis[index].request("POST", "/api/offers", json_body=TEN_OFF, headers=staff).status

    threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(statuses) <= {201, 409}
    assert Counter(statuses)[201] <= 2
    live = api.request("GET", "/api/offers", query_string="all=true", headers=staff).json()
    assert len(live) == MAX_LIVE_OFFERS - 2 + Counter(statuses)[201] <= MAX_LIVE_OFFERS
    assert len({offer["id"] for offer in live}) == len(live)  # every id given once


# --- PATCH --------------------------------------------------------------------------------------


def test_staff_change_terms_and_get_a_new_version(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    offer = add(api, staff, {**TEN_OFF, "max_uses": 10, "ends_at": iso(NOW + timedelta(days=1))})
    dynamodb_calls.clear()
    changes = {"percent": "15", "name": " Fifteen off ", "ends_at": None, "products": [4, 2]}
    response = api.request("PATCH", f"/api/offers/{offer['id']}", json_body=changes, headers=staff)
    assert response.status == 200, response.body
    assert dynamodb_calls.operations == ["GetItem", "GetItem", "GetItem", "TransactWriteItems"]  # staff, offer, registry
    expected = {**offer, "percent": 15.0, "name": "Fifteen off", "ends_at": None, "products": [4, 2], "version": 2}
    assert response.json() == expected
    assert public(api) == [expected]


def test_an_edit_keeps_the_usage_counter_that_orders_changed_meanwhile(api: LocalApi, staff: Headers) -> None:
    offer = add(api, staff, {**TEN_OFF, "max_uses": 10})
    client().transact_write_items(TransactItems=usage_writes(active_offers(NOW), 1))  # an order used it
    response = api.request("PATCH", f"/api/offers/{offer['id']}", json_body={"max_uses": 20}, headers=staff)
    assert response.json()["times_used"] == 1
    assert stored_offer(offer["id"])["times_used"] == 1


def test_an_edit_that_changes_nothing_writes_nothing(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    offer = add(api, staff, TEN_OFF)
    dynamodb_calls.clear()
    response = api.request("PATCH", f"/api/offers/{offer['id']}", json_body={"percent": "10.0"}, headers=staff)
    assert response.json() == offer
    assert dynamodb_calls.operations == ["GetItem", "GetItem"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "amount_off"}, "kind"),
        ({"percent": "0"}, "percent"),
        ({"name": None}, "name"),
        ({"percent": None}, "percent"),
        ({"amount": "5"}, "amount"),  # not a term of a percent_off
        ({"ends_at": "2000-01-01T00:00:00Z"}, "body"),  # before its start: an empty window
        ({"whatever": 1}, "whatever"),
        ({"id": 2}, "id"),
        ({"times_used": 0}, "times_used"),
        ({"percent": "1e2"}, "percent"),
        ({"stacks": "yes"}, "stacks"),
        ({"priority": "5"}, "priority"),
        ({"max_uses": 2.5}, "max_uses"),
        ({"starts_at": 0}, "starts_at"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(api: LocalApi, staff: Headers, changes: dict[str, Any], field: str) -> None:
    add(api, staff, TEN_OFF)
    before = table_items()
    response = api.request("PATCH", "/api/offers/1", json_body=changes, headers=staff)
    assert response.status == 400, response.body
    assert field in [error["field"] for error in response.json()["errors"]]
    assert table_items() == before


@pytest.mark.parametrize("path", ["/api/offers/2", "/api/offers/9007199254740991"])
def test_changing_or_deleting_an_unknown_offer_is_404(api: LocalApi, staff: Headers, path: str) -> None:
    add(api, staff, TEN_OFF)
    before = table_items()
    for method, body in (("PATCH", {"name": "X"}), ("DELETE", None)):
        response = api.request(method, path, json_body=body, headers=staff)
        assert response.status == 404, response.body
        assert response.json()["detail"]
    assert table_items() == before


@pytest.mark.parametrize("path", ["/api/offers/0", "/api/offers/x", "/api/offers/9007199254740992"])
def test_offer_ids_out_of_range_are_400(api: LocalApi, staff: Headers, path: str) -> None:
    for method, body in (("PATCH", {"name": "X"}), ("DELETE", None)):
        assert api.request(method, path, json_body=body, headers=staff).status == 400


# --- DELETE -------------------------------------------------------------------------------------


def test_staff_delete_an_offer_and_its_counters_stay(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    offer = add(api, staff, {**TEN_OFF, "max_uses": 10})
    client().transact_write_items(TransactItems=usage_writes(active_offers(NOW), 1))
    dynamodb_calls.clear()
    assert api.request("DELETE", f"/api/offers/{offer['id']}", headers=staff).status == 204
    assert dynamodb_calls.operations == ["GetItem", "TransactWriteItems"]
    assert public(api) == []
    assert api.request("GET", "/api/offers", query_string="all=true", headers=staff).json() == []
    kept = stored_offer(offer["id"])
    assert (kept["times_used"], kept["version"], "GSI1PK" in kept) == (1, 2, False)  # for exact cancels
    assert api.request("DELETE", f"/api/offers/{offer['id']}", headers=staff).status == 404
    assert api.request("PATCH", f"/api/offers/{offer['id']}", json_body={"name": "X"}, headers=staff).status == 404


# --- GET ----------------------------------------------------------------------------------------


def test_the_public_sees_only_offers_it_can_use_now(api: LocalApi, staff: Headers) -> None:
    ended = add(api, staff, {**TEN_OFF, "starts_at": iso(NOW - timedelta(days=2)), "ends_at": iso(NOW - timedelta(days=1))})
    scheduled = add(api, staff, {**TEN_OFF, "starts_at": iso(NOW + timedelta(days=1))})
    used_up = add(api, staff, {**TEN_OFF, "max_uses": 1})
    per_customer = add(api, staff, {**TEN_OFF, "max_uses_per_customer": 1})
    running = add(api, staff, {**FIVE_OFF, "ends_at": iso(NOW + timedelta(days=1))})
    client().transact_write_items(TransactItems=usage_writes([o for o in active_offers(NOW) if o.id == used_up["id"]], 1))
    assert [offer["id"] for offer in public(api)] == [per_customer["id"], running["id"]]
    every = api.request("GET", "/api/offers", query_string="all=true", headers=staff).json()
    # Staff see every offer not deleted, the latest to end first (those without an end first),
    # then the newest first.
    assert [offer["id"] for offer in every] == [
        per_customer["id"],
        used_up["id"],
        scheduled["id"],
        running["id"],
        ended["id"],
    ]


def test_staff_page_through_every_offer(api: LocalApi, staff: Headers, dynamodb_calls: Any) -> None:
    for n in range(5):
        add(api, staff, {**TEN_OFF, "name": f"Offer {n}", "ends_at": iso(NOW + timedelta(days=n + 1))})
    seen: list[int] = []
    query = "all=true&limit=2"
    pages = 0
    while query:
        dynamodb_calls.clear()
        response = api.request("GET", "/api/offers", query_string=query, headers=staff)
        assert response.status == 200, response.body
        assert dynamodb_calls.operations == ["GetItem", "Query"]
        assert dynamodb_calls.items_read <= 1 + 3  # the staff flag, limit + 1 offers
        seen += [offer["id"] for offer in response.json()]
        link = response.headers.get("link")
        query = urlparse(link.split(">")[0].lstrip("<")).query if link else ""
        if query:
            assert parse_qs(query)["all"] == ["true"]
        pages += 1
    assert (seen, pages) == ([5, 4, 3, 2, 1], 3)


@pytest.mark.parametrize("query", ["all=true&cursor=Zjk", "all=1&cursor=!!", "all=TRUE&limit=0", "all=yes&limit=101"])
def test_a_customer_asking_for_every_offer_gets_403_whatever_the_query(
    api: LocalApi, customer: Headers, query: str, dynamodb_calls: Any
) -> None:
    """The role is checked before any parameter is parsed: a malformed one is no 400 for a customer."""
    response = api.request("GET", "/api/offers", query_string=query, headers=customer)
    assert response.status == 403, response.body
    assert dynamodb_calls.operations == ["GetItem"]
    assert api.request("GET", "/api/offers", query_string=query).status == 401


def test_the_public_list_needs_no_token_whatever_all_says_when_it_is_not_true(api: LocalApi) -> None:
    for query in ("", "all=false", "all=0", "all=no"):
        assert api.request("GET", "/api/offers", query_string=query).status == 200, query
    assert api.request("GET", "/api/offers", query_string="all=maybe").status == 400


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=5", "limit"),  # paging is for staff's every-offer list
        ("cursor=Zjk", "cursor"),
        ("all=true&cursor=Zjk", "cursor"),  # not a cursor this API issued
        ("all=true&cursor=!!", "cursor"),
        ("all=true&limit=0", "limit"),
        ("all=true&limit=101", "limit"),
        ("all=maybe", "all"),
    ],
)
def test_bad_queries_are_400(api: LocalApi, staff: Headers, query: str, field: str, dynamodb_calls: Any) -> None:
    dynamodb_calls.clear()
    response = api.request("GET", "/api/offers", query_string=query, headers=staff)
    assert response.status == 400, response.body
    assert field in [error["field"] for error in response.json()["errors"]]
    assert "Query" not in dynamodb_calls.operations
