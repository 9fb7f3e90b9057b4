"""moto's dispatch without per-request reflection: the same routing and actions, and no listing
of moto's folder or of a class's methods once a request has been served."""

import inspect
import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import backends
from moto.core import responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import EnvironBuilder

from shoplocal.store.moto_dispatch import dispatch_without_reflection


@pytest.fixture
def without_reflection() -> Iterator[None]:
    names = ("method_names_from_class", "camelcase_to_underscores")
    saved_modules, saved = backends.list_of_moto_modules, [getattr(responses, name) for name in names]
    expected_modules = list(backends.list_of_moto_modules())
    dispatch_without_reflection()
    assert list(backends.list_of_moto_modules()) == expected_modules
    try:
        yield
    finally:
        backends.list_of_moto_modules = saved_modules
        for name, original in zip(names, saved, strict=True):
            setattr(responses, name, original)


def _list_queues(application: Any) -> tuple[str, bytes]:
    builder = EnvironBuilder(
        method="POST",
        path="/",
        headers=[
            ("X-Amz-Target", "AmazonSQS.ListQueues"),
            ("Content-Type", "application/x-amz-json-1.0"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=x",
            ),
        ],
        data=b"{}",
    )
    answer: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        answer.append(status)

    body = b"".join(application(builder.get_environ(), start_response))
    return answer[0], body


def test_requests_are_served_alike_without_listing_folders_or_methods(
    without_reflection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    application = DomainDispatcherApplication(create_backend_app)
    first = _list_queues(application)
    assert first[0].startswith("200")
    listed: list[str] = []
    real_listdir, real_getmembers = os.listdir, inspect.getmembers

    def listdir(*arguments: Any) -> Any:
        listed.append("listdir")
        return real_listdir(*arguments)

    def getmembers(*arguments: Any, **options: Any) -> Any:
        listed.append("getmembers")
        return real_getmembers(*arguments, **options)

    monkeypatch.setattr(os, "listdir", listdir)
    monkeypatch.setattr(inspect, "getmembers", getmembers)
    assert _list_queues(application) == first
    assert listed == []
