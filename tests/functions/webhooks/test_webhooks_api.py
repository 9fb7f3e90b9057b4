"""The staff webhooks API: endpoints, their secrets and rotation, the SSRF guard on their URLs,
the cap on their number, who may use it."""

import base64
from typing import Any

import pytest

from shoplocal.gateway.invoke import LocalApi
from webhooks import admin, store

RECEIVER = "http://127.0.0.1:3801/hooks"


@pytest.fixture
def staff(signed_in: Any) -> dict[str, str]:
    headers: dict[str, str] = signed_in(is_staff=True)[1]
    return headers


def add(api: LocalApi, staff: dict[str, str], **body: Any) -> Any:
    return api.request("POST", "/api/webhooks", json_body={"url": RECEIVER, "events": ["order.placed"], **body}, headers=staff)


def test_only_staff_manage_webhooks(api: LocalApi, signed_in: Any) -> None:
    _, customer = signed_in()
    body = {"url": RECEIVER, "events": ["order.placed"]}
    assert api.request("POST", "/api/webhooks", json_body=body).status == 401
    assert api.request("POST", "/api/webhooks", json_body=body, headers=customer).status == 403
    assert api.request("GET", "/api/webhooks", headers=customer).status == 403


def test_a_new_endpoint_shows_its_secret_once(api: LocalApi, staff: dict[str, str]) -> None:
    created = add(api, staff, description="Fulfilment")
    assert created.status == 201
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert len(base64.b64decode(endpoint["secret"].removeprefix("whsec_"))) == 32
    assert endpoint["status"] == "healthy"
    assert endpoint["enabled"] is True
    shown = api.request("GET", f"/api/webhooks/{endpoint['id']}", headers=staff).json()
    assert "secret" not in shown
    assert shown == {key: value for key, value in endpoint.items() if key != "secret"}
    assert api.request("GET", "/api/webhooks", headers=staff).json() == [shown]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "https"),
        ("http://example.com/hooks", "https"),
        ("https://user:pw@example.com/x", "credentials"),
        ("https://10.0.0.7/hooks", "public"),
        ("https://169.254.169.254/latest/meta-data", "public"),
        ("https://[fd00:ec2::254]/", "public"),
        ("https://internal.example/hooks", "public"),  # resolves to a private address
        ("https://nowhere.example/hooks", "resolve"),
        ("not a url", "https"),
    ],
)
def test_urls_a_webhook_may_not_have_are_refused_with_nothing_written(
    api: LocalApi, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch, url: str, why: str
) -> None:
    names = {"internal.example": ["93.184.215.14", "10.1.2.3"], "hooks.example": ["93.184.215.14"]}

    def resolver(host: str, port: int) -> list[str]:
        if host not in names:
            raise OSError("no such name")
        return names[host]

    monkeypatch.setattr(admin, "resolver", resolver)
    response = add(api, staff, url=url)
    assert response.status == 400, response.body
    (error,) = response.json()["errors"]
    assert error["field"] == "url"
    assert why in error["message"]
    assert api.request("GET", "/api/webhooks", headers=staff).json() == []
    assert add(api, staff, url="https://hooks.example/in").status == 201  # a public name is fine


def test_unknown_event_types_and_fields_are_refused(api: LocalApi, staff: dict[str, str]) -> None:
    assert add(api, staff, events=["order.shipped"]).status == 400
    assert add(api, staff, events=[]).status == 400
    assert add(api, staff, secret="mine").status == 400


def test_staff_edit_disable_and_enable_an_endpoint(api: LocalApi, staff: dict[str, str]) -> None:
    endpoint = add(api, staff).json()
    path = f"/api/webhooks/{endpoint['id']}"
    changed = api.request("PATCH", path, json_body={"events": ["order.cancelled", "user.registered"]}, headers=staff).json()
    assert changed["events"] == ["order.cancelled", "user.registered"]
    disabled = api.request("PATCH", path, json_body={"enabled": False}, headers=staff).json()
    assert disabled["status"] == "disabled"
    assert disabled["disabled_reason"] == "disabled by staff"
    enabled = api.request("PATCH", path, json_body={"enabled": True}, headers=staff).json()
    assert enabled["status"] == "healthy"
    assert enabled["disabled_at"] is None
    assert api.request("PATCH", path, json_body={"url": "https://10.0.0.1/"}, headers=staff).status == 400
    assert api.request("GET", path, headers=staff).json()["url"] == RECEIVER


def test_a_deleted_endpoint_is_gone_and_frees_its_place(
    api: LocalApi, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MAX_ENDPOINTS", 2)
    first, second = add(api, staff).json(), add(api, staff).json()
    refused = add(api, staff)
    assert refused.status == 409
    assert refused.json()["code"] == "too_many_webhooks"
    assert api.request("DELETE", f"/api/webhooks/{first['id']}", headers=staff).status == 204
    assert api.request("GET", f"/api/webhooks/{first['id']}", headers=staff).status == 404
    assert api.request("DELETE", f"/api/webhooks/{first['id']}", headers=staff).status == 404
    assert add(api, staff).status == 201
    assert {e["id"] for e in api.request("GET", "/api/webhooks", headers=staff).json()} >= {second["id"]}


def test_rotating_the_secret_answers_a_new_one_and_when_the_old_one_stops(api: LocalApi, staff: dict[str, str]) -> None:
    endpoint = add(api, staff).json()
    rotated = api.request("POST", f"/api/webhooks/{endpoint['id']}/rotate-secret", headers=staff)
    assert rotated.status == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"].endswith("Z")
    assert api.request("POST", "/api/webhooks/wh_aaaaaaaaaaaaaaaaaaaaaaaa/rotate-secret", headers=staff).status == 404


def test_ids_that_cannot_be_ids_are_a_400_without_a_call(api: LocalApi, staff: dict[str, str], dynamodb_calls: Any) -> None:
    dynamodb_calls.clear()
    assert api.request("GET", "/api/webhooks/not-an-id", headers=staff).status == 400
    assert api.request("POST", "/api/webhooks/wh_aaaaaaaaaaaaaaaaaaaaaaaa/deliveries/x/redeliver", headers=staff).status == 400
    assert [call.operation for call in dynamodb_calls.calls] == ["GetItem", "GetItem"]  # the staff checks only
