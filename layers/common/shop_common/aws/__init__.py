"""AWS clients for the functions' hot and cold paths: DynamoDB, Secrets Manager and EventBridge's
PutEvents (and the local queue poller's SQS calls) over the JSON protocol without botocore's
client machinery (see `json_client` for why and what it does).

`lean_client` builds one when the environment alone decides where and how requests go (as in
Lambda: region, credentials and, locally, an endpoint URL in variables); otherwise it answers
None and the caller uses boto3's client, which knows profiles, config files and the rest.
"""

from collections.abc import Callable

from shop_common.aws.credentials import CredentialSource, default_source
from shop_common.aws.endpoints import lean_endpoint
from shop_common.aws.json_client import AwsJsonClient
from shop_common.aws.services import ServiceSpec
from shop_common.aws.transport import HttpTransport, Transport

__all__ = ["AwsJsonClient", "CredentialSource", "Transport", "TransportFactory", "lean_client", "use_transports"]

TransportFactory = Callable[[float, float], Transport]  # (connect timeout, read timeout) -> transport


def _http(connect_timeout: float, read_timeout: float) -> Transport:
    return HttpTransport(connect_timeout=connect_timeout, read_timeout=read_timeout)


_transports: TransportFactory = _http


def use_transports(factory: TransportFactory | None) -> None:
    """Send the requests of every lean client created from now on through the transports
    `factory` makes (tests: the embedded store in-process; benchmarks: recorded answers);
    None: HTTP again."""
    global _transports
    _transports = factory or _http


def lean_client(
    service: ServiceSpec,
    *,
    connect_timeout: float,
    read_timeout: float,
    credentials: CredentialSource | None = None,
    transport: Transport | None = None,
) -> AwsJsonClient | None:
    endpoint = lean_endpoint(service.endpoint_prefix, service.env_name, account_endpoints=service.account_endpoints)
    if endpoint is None:
        return None
    return AwsJsonClient(
        service,
        endpoint,
        credentials or default_source(),
        transport or _transports(connect_timeout, read_timeout),
    )
