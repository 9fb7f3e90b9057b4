"""The HTTP side of the local API: a threaded HTTP/1.1 server that hands each request to the
`LocalGateway` and writes its answer back."""

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from shoplocal.gateway.local_gateway import GatewayRequest, LocalGateway, log_request

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class _ApiRequestHandler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body waits for
    # the client's delayed ACK (~40 ms a response on Linux).
    disable_nagle_algorithm = True
    server: "ApiServer"
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of API Gateway get

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(413, [("content-type", "application/json")], b'{"message":"Request Entity Too Large"}')
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = GatewayRequest(
            method=self.command,
            path=url.path,
            query_string=url.query,
            headers=self._headers_as_api_gateway_passes_them(),
            body=body,
            source_ip=self.client_address[0],
            server_origin=self.server.origin,
        )
        response = self.server.gateway.handle(request)
        # Logged before the answer leaves: a client that has its response can rely on the
        # request's log line being written (tests read the log right after a response).
        log_request(request, response, time.perf_counter() - started)
        self._write(response.status, response.headers, response.body)

    def _headers_as_api_gateway_passes_them(self) -> list[tuple[str, str]]:
        # API Gateway sets the X-Forwarded-* headers itself (handlers build absolute links from
        # them); here the scheme is plain http.
        forwarded = {"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
        headers = [(name, value) for name, value in self.headers.items() if name.lower() not in forwarded]
        headers.append(("X-Forwarded-For", self.client_address[0]))
        headers.append(("X-Forwarded-Port", str(self.server.server_address[1])))
        headers.append(("X-Forwarded-Proto", "http"))
        return headers

    def _write(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        self.send_header("date", self.date_time_string())
        for name, value in headers:
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) goes to the gateway too, which answers it as API
        # Gateway does (404, no route), rather than http.server's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: object) -> None:
        """Requests are logged once, by the gateway's request log, not by http.server."""


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many clients connecting at once are queued, not reset

    def __init__(self, host: str, port: int, gateway: LocalGateway) -> None:
        self.gateway = gateway
        super().__init__((host, port), _ApiRequestHandler)
        # Listening on every interface, the server is still reached as itself on the loopback.
        self.origin = f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{self.server_port}"  # noqa: S104 - a comparison
