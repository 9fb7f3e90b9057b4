"""One webhook POST, never to an address the SSRF guard refuses (shop_common.webhook_urls).

The host is resolved once, every address it resolves to is checked, and the connection is made
to a checked address itself (TLS still verifies the certificate against the host name), so DNS
cannot answer one address for the check and another for the connection. Redirects are not
followed (a 3xx is a failed attempt), proxies from the environment are not used, and at most
`MAX_RESPONSE_BYTES` of the answer are read.
"""

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from shop_common.webhook_urls import Address, BlockedDestination, Resolver, UrlPolicy, checked_addresses

# An attempt ends within 2 x 2 s of connecting and 5 s of waiting for the answer: inside the
# function's 10 s, with every attempt of a batch running at once.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
MAX_ADDRESSES = 2  # tried in turn when a connection fails
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no HTTP answer
    latency_ms: int
    error: str | None  # why it failed, for staff; None on a 2xx

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to one address chosen beforehand, for a named host."""

    def __init__(self, host: str, port: int, address: Address, tls: bool) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT)
        self._address = address
        self._tls = tls

    def connect(self) -> None:
        sock = socket.create_connection((str(self._address), self.port), timeout=CONNECT_TIMEOUT)
        sock.settimeout(READ_TIMEOUT)
        self.sock = _tls().wrap_socket(sock, server_hostname=self.host) if self._tls else sock


def post(url: str, body: bytes, headers: Mapping[str, str], policy: UrlPolicy, resolver: Resolver) -> Outcome:
    started = time.perf_counter()

    def outcome(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, round((time.perf_counter() - started) * 1000), error)

    problem = policy.url_problem(url)
    if problem:
        return outcome(None, f"refused URL: {problem}")
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host, port = parts.hostname or "", parts.port or (443 if tls else 80)
    try:
        addresses = checked_addresses(host, port, policy, resolver)
    except BlockedDestination as blocked:
        return outcome(None, f"blocked: {blocked}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    last_error = "no address"
    for address in addresses[:MAX_ADDRESSES]:
        connection = _PinnedConnection(host, port, address, tls)
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            status = response.status
            return outcome(status, None if 200 <= status < 300 else f"HTTP {status}")
        except TimeoutError:
            return outcome(None, "timeout")  # the receiver was reached and did not answer in time
        except ssl.SSLError as error:
            return outcome(None, f"TLS: {error.reason or error}")
        except (OSError, http.client.HTTPException) as error:
            last_error = f"connection failed: {type(error).__name__}"  # try the next address
        finally:
            connection.close()
    return outcome(None, last_error)
