"""The HTTP transport against real local servers: connections kept alive and reused, a
connection the server closed replaced before use, each way of getting no answer raised as the
botocore exception botocore raises for it, TLS verified (and a custom CA bundle honoured), and
many threads at once."""

import datetime
import http.client
import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError, SSLError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shop_common.aws.transport import HttpTransport, lowercase_headers


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers each POST with its body, the connection it came on and a repeated header."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections: list[int] = []  # noqa: RUF012 - shared by the server's handlers, reset per test
    close_after_answer = False

    def setup(self) -> None:
        super().setup()
        self.connections.append(id(self.connection))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = body + f" via {id(self.connection)} host={self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-Twice", "a")
        self.send_header("x-twice", "b")
        if self.close_after_answer:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[http.server.ThreadingHTTPServer]:
    Echo.connections = []
    Echo.close_after_answer = False
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def url_of(server: http.server.HTTPServer, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{server.server_address[1]}/"


def transport(read_timeout: float = 5.0) -> HttpTransport:
    return HttpTransport(connect_timeout=2.0, read_timeout=read_timeout)


def test_requests_reuse_one_kept_alive_connection(echo_server: http.server.ThreadingHTTPServer) -> None:
    http_transport = transport()
    answers = [http_transport.send(url_of(echo_server), {"Content-Type": "x"}, f"call {n}".encode()) for n in range(3)]
    assert [answer.body.split(b" via ")[0] for answer in answers] == [b"call 0", b"call 1", b"call 2"]
    assert len(Echo.connections) == 1
    assert answers[0].status == 200
    assert answers[0].headers["x-twice"] == "a, b"  # names in lower case, repeated values joined as urllib3 joins them
    port = echo_server.server_address[1]
    assert answers[0].body.endswith(f"host=127.0.0.1:{port}".encode())


def test_a_connection_the_server_closed_is_replaced_before_it_is_used(echo_server: http.server.ThreadingHTTPServer) -> None:
    http_transport = transport()
    Echo.close_after_answer = True  # the server says so, and closes
    http_transport.send(url_of(echo_server), {}, b"first")
    Echo.close_after_answer = False
    http_transport.send(url_of(echo_server), {}, b"second")
    # And one closed silently while idle (a server's idle timeout): found closed, not used.
    idle = http_transport._idle[("http", "127.0.0.1", echo_server.server_address[1])][0]
    assert idle.sock is not None
    idle.sock.shutdown(socket.SHUT_RDWR)  # as if the server had closed it: it reads as closed
    assert http_transport.send(url_of(echo_server), {}, b"third").body.startswith(b"third")
    assert len(Echo.connections) == 3


def test_no_listener_is_an_endpoint_connection_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(EndpointConnectionError, match=f"127.0.0.1:{port}"):
        transport().send(f"http://127.0.0.1:{port}/", {}, b"")


def test_a_connect_that_times_out_is_a_connect_timeout_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def times_out(self: http.client.HTTPConnection) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr(http.client.HTTPConnection, "connect", times_out)
    with pytest.raises(ConnectTimeoutError):
        transport().send("http://127.0.0.1:9/", {}, b"")


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """Accepts connections and never answers: the caller decides when to hang up."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_no_answer_within_the_read_timeout_is_a_read_timeout_error(silent_server: tuple[str, list[socket.socket]]) -> None:
    url, _ = silent_server
    with pytest.raises(ReadTimeoutError, match="Read timeout"):
        transport(read_timeout=0.2).send(url, {}, b"anyone?")


def test_a_connection_closed_before_the_answer_is_a_connection_closed_error(
    silent_server: tuple[str, list[socket.socket]],
) -> None:
    url, accepted = silent_server

    def hang_up() -> None:
        while not accepted:
            threading.Event().wait(0.01)
        accepted[0].recv(1024)
        accepted[0].close()

    closer = threading.Thread(target=hang_up)
    closer.start()
    with pytest.raises(ConnectionClosedError):
        transport().send(url, {}, b"anyone?")
    closer.join()


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "cert.pem", folder / "key.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    certificate, key = self_signed(tmp_path)
    Echo.connections = []
    Echo.close_after_answer = False
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url_of(server, "https"), certificate
    server.shutdown()
    server.server_close()


def test_tls_is_verified_and_a_custom_ca_bundle_is_honoured(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, certificate = tls_server
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    with pytest.raises(SSLError, match="SSL validation failed"):
        transport().send(url, {}, b"hello")  # a certificate no known authority signed
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificate))  # as botocore: this bundle is trusted
    assert transport().send(url, {}, b"hello").body.startswith(b"hello")


def test_many_threads_at_once_each_get_their_own_answer(echo_server: http.server.ThreadingHTTPServer) -> None:
    http_transport = transport()

    def call(number: int) -> bytes:
        return http_transport.send(url_of(echo_server), {}, f"call {number}".encode()).body.split(b" via ")[0]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, range(200)))
    assert answers == [f"call {number}".encode() for number in range(200)]
    assert len(Echo.connections) <= 16 * 2  # connections are reused, not one per request


def test_header_names_are_lower_case_and_repeats_joined() -> None:
    assert lowercase_headers([("X-A", "1"), ("x-a", "2"), ("Date", "d")]) == {"x-a": "1, 2", "date": "d"}


def test_close_drops_the_idle_connections(echo_server: http.server.ThreadingHTTPServer) -> None:
    http_transport = transport()
    http_transport.send(url_of(echo_server), {}, b"one")
    http_transport.close()
    http_transport.send(url_of(echo_server), {}, b"two")
    assert len(Echo.connections) == 2
