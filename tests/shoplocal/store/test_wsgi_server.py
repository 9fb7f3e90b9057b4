"""The store's HTTP server: keep-alive connections, bodies sent whole or chunked, the
application's status and headers passed through, and no request served once it stops."""

import http.client
import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from shoplocal.store.wsgi_server import KeepAliveWsgiServer, make_server

calls: list[str] = []


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answers with what it was sent, as JSON, and a header of its own."""
    calls.append(environ["PATH_INFO"])
    body = environ["wsgi.input"].read()
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "target": environ.get("HTTP_X_AMZ_TARGET"),
        "host": environ.get("HTTP_HOST"),
        "body": body.decode(),
        "length": environ["CONTENT_LENGTH"],
    }
    start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), ("x-amz-crc32", "7")])
    return [json.dumps(answer).encode()]


@pytest.fixture
def server() -> Iterator[KeepAliveWsgiServer]:
    running = make_server("127.0.0.1", 0, echo)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    thread.join(timeout=30)


def test_requests_share_one_connection_and_get_what_the_application_answers(server: KeepAliveWsgiServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    sockets = set()
    for number in range(3):
        connection.request(
            "POST", f"/a%20b?x={number}", body=f'{{"n": {number}}}', headers={"X-Amz-Target": "DynamoDB_20120810.Query"}
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        sockets.add(id(connection.sock))
        assert response.status == 400
        assert response.getheader("x-amz-crc32") == "7"
        assert response.getheader("Connection") != "close"
        assert answer == {
            "method": "POST",
            "path": "/a b",
            "query": f"x={number}",
            "target": "DynamoDB_20120810.Query",
            "host": f"127.0.0.1:{server.server_address[1]}",
            "body": f'{{"n": {number}}}',
            "length": str(len(f'{{"n": {number}}}')),
        }
    assert len(sockets) == 1  # one connection served all three


def test_a_chunked_body_is_read_whole(server: KeepAliveWsgiServer) -> None:
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30) as raw:
        raw.sendall(
            b"POST / HTTP/1.1\r\nHost: store\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
        )
        reply = b""
        while not reply.endswith(b"}"):
            reply += raw.recv(65536)
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["body"] == "hello, world"


def test_after_stopping_no_request_reaches_the_application(server: KeepAliveWsgiServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.request("GET", "/")
    connection.getresponse().read()
    served = len(calls)
    server.shutdown()
    try:
        connection.request("GET", "/")
        status = connection.getresponse().status
    except (http.client.HTTPException, OSError):
        status = None  # the connection was closed
    assert status in (None, 503)
    assert len(calls) == served
