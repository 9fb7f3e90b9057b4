"""The sender's POST: it connects to the very address the SSRF guard checked (one lookup, so a
name re-pointed between check and connect gains nothing), refuses what the guard refuses before
any connection, and reports every failure the retry schedule acts on."""

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from event_pipeline import receiver
from shop_common.webhook_urls import UrlPolicy
from webhook_sender import guarded_http

LOCAL, DEPLOYED = UrlPolicy(allow_loopback=True), UrlPolicy()


class Lookups:
    """A resolver that answers `address` once, and fails if asked again."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if len(self.asked) > 1:
            raise AssertionError("looked up twice: the connection must use the address checked")
        return [self.address]


class Listener:
    """A server that accepts connections, counts them, and never answers."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._accepted.append(self._socket.accept()[0])
            except TimeoutError:
                continue

    def connections(self) -> int:
        return len(self._accepted)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._accepted:
            connection.close()
        self._socket.close()


@pytest.fixture
def silent_server() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def test_a_name_is_looked_up_once_and_the_checked_address_is_the_one_connected_to(
    silent_server: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guarded_http, "READ_TIMEOUT", 0.1)
    lookups = Lookups("127.0.0.1")
    # `rebind.invalid` resolves nowhere: only the address the guard checked can reach the listener.
    outcome = guarded_http.post(f"https://rebind.invalid:{silent_server.port}/hooks", b"{}", {}, LOCAL, lookups)
    assert lookups.asked == ["rebind.invalid"]
    assert silent_server.connections() == 1
    assert outcome.status_code is None  # the listener never completes TLS


def test_a_local_receiver_gets_the_post_with_its_headers() -> None:
    with receiver() as hooks:
        outcome = guarded_http.post(hooks.url, b'{"a":1}', {"webhook-id": "evt_1"}, LOCAL, Lookups("127.0.0.1"))
    assert outcome.succeeded
    (request,) = hooks.received
    assert request.headers["webhook-id"] == "evt_1"
    assert request.body == b'{"a":1}'


def test_a_refused_address_gets_no_connection() -> None:
    with receiver() as hooks:
        port = hooks.url.split(":")[2].split("/")[0]
        outcome = guarded_http.post(f"https://inside.example:{port}/hooks", b"{}", {}, DEPLOYED, Lookups("127.0.0.1"))
        literal = guarded_http.post(f"https://127.0.0.1:{port}/hooks", b"{}", {}, DEPLOYED, Lookups("127.0.0.1"))
    assert hooks.received == []
    assert outcome.status_code is None
    assert outcome.error is not None
    assert outcome.error.startswith("blocked:")
    assert literal.error is not None
    assert literal.error.startswith("blocked:")
    assert guarded_http.post("http://hooks.example/x", b"{}", {}, DEPLOYED, Lookups("93.184.215.14")).error == (
        "refused URL: Must be an https:// URL."
    )


@pytest.mark.parametrize(("status", "succeeded"), [(200, True), (204, True), (302, False), (404, False), (500, False)])
def test_only_a_2xx_is_a_delivery_and_redirects_are_not_followed(status: int, succeeded: bool) -> None:
    with receiver(answers=[status]) as hooks:
        outcome = guarded_http.post(hooks.url, b"{}", {}, LOCAL, Lookups("127.0.0.1"))
    assert outcome.succeeded is succeeded
    assert outcome.status_code == status
    assert outcome.error == (None if succeeded else f"HTTP {status}")
    assert len(hooks.received) == 1


def test_a_receiver_that_does_not_answer_is_a_timeout(silent_server: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guarded_http, "READ_TIMEOUT", 0.1)
    outcome = guarded_http.post(f"http://127.0.0.1:{silent_server.port}/", b"{}", {}, LOCAL, Lookups("127.0.0.1"))
    assert (outcome.status_code, outcome.error) == (None, "timeout")


def test_nothing_listening_is_a_connection_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    outcome = guarded_http.post(f"http://127.0.0.1:{port}/", b"{}", {}, LOCAL, Lookups("127.0.0.1"))
    assert outcome.status_code is None
    assert outcome.error == "connection failed: ConnectionRefusedError"


def test_a_huge_answer_is_read_only_in_part() -> None:
    class Huge(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("content-length", str(10 * 1024 * 1024))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hangs up after what it reads
                self.wfile.write(b"x" * (256 * 1024))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Huge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        outcome = guarded_http.post(f"http://127.0.0.1:{server.server_address[1]}/", b"{}", {}, LOCAL, Lookups("127.0.0.1"))
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.succeeded
