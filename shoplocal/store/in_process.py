"""moto answering the lean AWS clients in-process: what `mock_aws` does for botocore's clients
(its request handler takes the prepared request before it is sent), for the functions' own
client, so tests and benchmarks run the whole request path without a server or a socket.

Outside a `mock_aws` context (or for a URL moto does not serve) requests go over HTTP as usual.
"""

from collections.abc import Mapping
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, HeadersDict
from moto.core.models import botocore_stubber

from shop_common.aws.transport import HttpResponse, HttpTransport, Transport, lowercase_headers


class InProcessMoto:
    """A transport: moto's answer when it is mocking AWS, else the HTTP transport's."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self._http: Transport = HttpTransport(connect_timeout=connect_timeout, read_timeout=read_timeout)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        if botocore_stubber.enabled:
            prepared_headers: Any = HeadersDict(headers)  # what botocore hands moto
            request = AWSPreparedRequest("POST", url, prepared_headers, body, False)
            answer = botocore_stubber.process_request(request)
            if answer is not None:
                status, response_headers, content = answer
                raw = content.encode() if isinstance(content, str) else bytes(content)
                pairs = [(str(name), str(value)) for name, value in response_headers.items()]
                return HttpResponse(int(status), lowercase_headers(pairs), raw)
        return self._http.send(url, headers, body)

    def close(self) -> None:
        close = getattr(self._http, "close", None)
        if close is not None:
            close()
