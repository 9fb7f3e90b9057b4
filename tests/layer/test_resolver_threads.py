"""Two containers' resolvers in one process at once (the local server's worker processes, the
tests' threads) each see their own request: powertools keeps the current event on a class
shared by every resolver, which routed one request with another's body."""

import threading
from typing import Any

from aws_lambda_powertools.event_handler import Response

from shop_common.api import create_resolver, json_response


def http_event(path: str, body: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": path}, "domainName": "localhost", "stage": "$default"},
        "body": body,
        "isBase64Encoded": False,
    }


def test_a_request_resolved_meanwhile_by_another_resolver_does_not_replace_this_ones() -> None:
    first, second = create_resolver(), create_resolver()
    first_is_routed, second_is_done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    @first.post("/first")
    def first_route() -> Response[str]:
        first_is_routed.set()
        assert second_is_done.wait(timeout=60)  # the other request runs to its end meanwhile
        seen["first"] = (first.current_event.path, first.current_event.json_body, first.lambda_context)
        return json_response(200, {})

    @second.post("/second")
    def second_route() -> Response[str]:
        seen["second"] = (second.current_event.path, second.current_event.json_body, second.lambda_context)
        return json_response(200, {})

    answers: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: answers.update(first=first.resolve(http_event("/first", '{"a": 1}'), "ctx-1")))  # type: ignore[arg-type]
    thread.start()
    assert first_is_routed.wait(timeout=60)
    answers["second"] = second.resolve(http_event("/second", '{"b": 2}'), "ctx-2")  # type: ignore[arg-type]
    second_is_done.set()
    thread.join(timeout=60)
    assert answers["first"]["statusCode"] == answers["second"]["statusCode"] == 200
    assert seen == {"first": ("/first", {"a": 1}, "ctx-1"), "second": ("/second", {"b": 2}, "ctx-2")}
