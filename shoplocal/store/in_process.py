"""moto answering the lean AWS clients in-process: what `mock_aws` does for botocore's clients
(its request handler takes the prepared request before it is sent), for the functions' own
client, so tests and benchmarks run the whole request path without a server or a socket.

Outside a `mock_aws` context (or for a URL moto does not serve) requests go over HTTP as usual.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, HeadersDict
from moto import mock_aws
from moto.core.models import botocore_stubber

from shoplocal.store import fast_lane
from shoplocal.template import put_code_on_path

put_code_on_path()
from shop_common.aws.transport import HttpResponse, HttpTransport, lowercase_headers  # noqa: E402 - the layer is importable only after the line above


class InProcessMoto:
    """A transport: moto's answer when it is mocking AWS, else the HTTP transport's."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.read_timeout = read_timeout
        self._http = HttpTransport(connect_timeout=connect_timeout, read_timeout=read_timeout)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        if botocore_stubber.enabled:
            fast = _fast_lane_answer(url, headers, body)
            if fast is not None:
                return fast
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
        self._http.close()


@contextmanager
def moto_in_process() -> Iterator[None]:
    """moto's `mock_aws`, for the functions' clients too: made anew inside, answered in-process."""
    from shop_common import dynamo, secrets
    from shop_common.aws import use_transports

    with mock_aws():
        use_transports(InProcessMoto)
        dynamo.forget_client()
        secrets.forget_client()
        try:
            yield
        finally:
            use_transports(None)
            dynamo.forget_client()
            secrets.forget_client()


def _fast_lane_answer(url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse | None:
    """The embedded store's fast lane for a DynamoDB read, as `make run` answers it (so every
    test of the functions reads through it), on the backend moto mocks for the request."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.iam.models import get_account_id_from

    host = urlsplit(url).hostname or ""
    if not (host.startswith("dynamodb.") and host.endswith(".amazonaws.com")):
        return None
    lowered = {name.lower(): value for name, value in headers.items()}
    credential = lowered.get("authorization", "").partition("Credential=")[2].split("/")
    if len(credential) < 3:
        return None
    region = host.split(".")[1]
    account = os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(credential[0])
    found = fast_lane.answer(dynamodb_backends[account][region], lowered.get("x-amz-target", ""), body)
    if found is None:
        return None
    content, answer_headers = found
    return HttpResponse(200, lowercase_headers(answer_headers), content)
