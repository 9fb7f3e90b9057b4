"""HTTPS to AWS with the standard library: kept-alive connections, botocore's timeouts and
botocore's exceptions for every way a request can fail to get an answer.

botocore sends through urllib3 (~60 ms to import, with botocore's own HTTP layer on top);
`http.client` is already imported by the runtime's neighbours and does what a JSON API call
needs: one POST, one complete response. As urllib3 does for botocore, a pooled connection the
server has closed is noticed before reuse and replaced, and failures map to the exceptions
botocore raises (and its retry mode retries): `EndpointConnectionError`, `ConnectTimeoutError`,
`ReadTimeoutError`, `ConnectionClosedError`, `SSLError`, `HTTPClientError`.
"""

import http.client
import importlib.util
import os
import select
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
    SSLError,
)

_CLOSED = (http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead, http.client.BadStatusLine)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names in lower case; a repeated header's values joined by ", "
    body: bytes


class Transport(Protocol):
    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        """POST `body` to `url`; raise botocore's exception when no response comes back."""
        ...


def lowercase_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    return headers


def ca_bundle() -> str | None:
    """The certificates botocore verifies with: `AWS_CA_BUNDLE`, else certifi's, else the bundle
    botocore ships (else the system's)."""
    configured = os.environ.get("AWS_CA_BUNDLE")
    if configured:
        return configured
    for package, name in (("certifi", "cacert.pem"), ("botocore", "cacert.pem")):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            path = Path(folder) / name
            if path.is_file():
                return str(path)
    return None


class HttpTransport:
    """Connections per host, reused while the server keeps them open; thread-safe."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_idle: int = 16) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._max_idle = max_idle
        self._idle: dict[tuple[str, str, int | None], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        parts = urlsplit(url)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        connection = self._idle_connection(origin) or self._connect(url, origin)
        try:
            connection.request("POST", parts.path or "/", body=body, headers=dict(headers))
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as error:
            connection.close()
            raise ReadTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=url, error=error) from error
        except _CLOSED as error:
            connection.close()
            raise ConnectionClosedError(endpoint_url=url, request=None, error=error) from error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise HTTPClientError(error=error) from error
        if response.will_close:
            connection.close()
        else:
            self._keep(origin, connection)
        return HttpResponse(response.status, lowercase_headers(response.getheaders()), content)

    def close(self) -> None:
        """Close every idle connection (a restored SnapStart snapshot holds dead ones)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _idle_connection(self, origin: tuple[str, str, int | None]) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                pool = self._idle.get(origin)
                if not pool:
                    return None
                connection = pool.pop()
            sock = connection.sock
            # Readable while idle means closed by the server (or a stray byte): not reusable.
            if sock is not None and not select.select([sock], [], [], 0)[0]:
                return connection
            connection.close()

    def _keep(self, origin: tuple[str, str, int | None], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            pool = self._idle.setdefault(origin, [])
            if len(pool) < self._max_idle:
                pool.append(connection)
                return
        connection.close()

    def _connect(self, url: str, origin: tuple[str, str, int | None]) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=self.connect_timeout, context=self._tls_context())
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except TimeoutError as error:
            connection.close()
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=url, error=error) from error
        except OSError as error:  # refused, unreachable, unknown host
            connection.close()
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        assert connection.sock is not None
        connection.sock.settimeout(self.read_timeout)
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=ca_bundle())
        return self._tls
