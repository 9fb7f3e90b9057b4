"""The relay from the Docker bridge's address to the store on the loopback: bytes pass both ways
unchanged, for many connections at once, and closing it frees the port."""

import errno
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from shoplocal.sam_local.relay import Relay

# Each byte b answered as 255 - b: a change that does not depend on how the stream is cut.
FLIP = bytes(range(255, -1, -1))


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data.translate(FLIP))


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def exchange(port: int, payload: bytes) -> bytes:
    """What comes back for `payload`; nothing when the relay closes or resets the connection."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(payload)
            connection.shutdown(socket.SHUT_WR)
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            return b""
        except OSError as error:  # closed before our half-close reached it: nothing came back either
            if error.errno not in (errno.ENOTCONN, errno.EPIPE):
                raise
            return b""
    return received


def test_bytes_pass_both_ways_unchanged(echo_server: int) -> None:
    relay = Relay("127.0.0.1", 0, "127.0.0.1", echo_server)
    try:
        payload = bytes(range(256)) * 2000  # larger than one buffer, every byte value
        assert exchange(relay.address[1], payload) == payload.translate(FLIP)
    finally:
        relay.close()


def test_concurrent_connections_are_kept_apart(echo_server: int) -> None:
    relay = Relay("127.0.0.1", 0, "127.0.0.1", echo_server)
    answers: dict[int, bytes] = {}

    def client(number: int) -> None:
        answers[number] = exchange(relay.address[1], f"request {number} ".encode() * 500)

    try:
        threads = [threading.Thread(target=client, args=(number,)) for number in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert answers == {number: (f"request {number} ".encode() * 500).translate(FLIP) for number in range(20)}
    finally:
        relay.close()


def test_a_client_is_closed_when_the_target_is_down() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    relay = Relay("127.0.0.1", 0, "127.0.0.1", closed_port)
    try:
        assert exchange(relay.address[1], b"anyone there?") == b""
    finally:
        relay.close()


def test_closing_frees_the_port(echo_server: int) -> None:
    relay = Relay("127.0.0.1", 0, "127.0.0.1", echo_server)
    port = relay.address[1]
    relay.close()
    again = Relay("127.0.0.1", port, "127.0.0.1", echo_server)
    again.close()
