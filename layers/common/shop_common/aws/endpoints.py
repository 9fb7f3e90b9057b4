"""Where a service's requests go, when the environment alone decides it as botocore would.

In Lambda that is `https://<prefix>.<region>.amazonaws.com` (`.amazonaws.com.cn` in China), or,
locally and in tests, the URL in `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`. Whatever
else could change botocore's choice (a shared config file, FIPS or dual-stack endpoints,
account-based endpoints, a proxy, a region of another partition) leaves the call to boto3's
client: `lean_endpoint` answers None. tests/layer/aws/test_aws_endpoints.py compares the answer
with botocore's for every region botocore knows.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d+$")  # the aws and aws-us-gov partitions
_CHINA_REGION = re.compile(r"^cn-[a-z]+-\d+$")
_TRUE = "true"
_OTHER_ENDPOINT_SETTINGS = ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")
_PROXY_SETTINGS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str


def _configured_url(service_env_name: str) -> str | None:
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == _TRUE:
        return None
    return os.environ.get(f"AWS_ENDPOINT_URL_{service_env_name}") or os.environ.get("AWS_ENDPOINT_URL") or None


def _plain_url(url: str) -> bool:
    """A scheme and a host, and nothing botocore would have to normalise (a path, a query)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.path in ("", "/") and not parts.query


def _shared_config_in_play() -> bool:
    """A non-empty shared config file may set endpoints, FIPS or retries per profile. (Where
    botocore looks: `AWS_CONFIG_FILE`, else ~/.aws/config; Lambda has neither.)"""
    path = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    try:
        return os.path.isfile(path) and os.path.getsize(path) > 0
    except OSError:
        return True


def lean_endpoint(prefix: str, service_env_name: str, *, account_endpoints: bool = False) -> Endpoint | None:
    """The endpoint botocore would send `prefix`'s requests to, when the environment alone
    decides it; None otherwise. `account_endpoints`: the service has account-based endpoints,
    which botocore prefers when the credentials carry an account id (`AWS_ACCOUNT_ID`)."""
    region = os.environ.get("AWS_DEFAULT_REGION", "")
    if not region or _shared_config_in_play() or any(os.environ.get(name) for name in _PROXY_SETTINGS):
        return None
    configured = _configured_url(service_env_name)
    if configured is not None:
        return Endpoint(configured.rstrip("/"), region) if _plain_url(configured) else None
    if any(os.environ.get(name, "").lower() == _TRUE for name in _OTHER_ENDPOINT_SETTINGS):
        return None
    if account_endpoints and os.environ.get("AWS_ACCOUNT_ID") and os.environ.get("AWS_ACCOUNT_ID_ENDPOINT_MODE") != "disabled":
        return None
    if _CHINA_REGION.match(region):
        return Endpoint(f"https://{prefix}.{region}.amazonaws.com.cn", region)
    if _AWS_REGION.match(region):
        return Endpoint(f"https://{prefix}.{region}.amazonaws.com", region)
    return None
