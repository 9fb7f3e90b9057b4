"""Where a service's requests go, decided from the environment alone, as botocore decides it.

botocore evaluates a service's endpoint rules (a JSON rule set, decoded on the first request)
from the region, the partition it belongs to and a few settings. For the plain case (a region
of a known partition, no FIPS or dual-stack endpoint, no account-based endpoint, no proxy, no
shared config file that could change any of it) the answer is `https://<prefix>.<region>.<DNS
suffix of the partition>`, or the endpoint set in `AWS_ENDPOINT_URL_<SERVICE>` or
`AWS_ENDPOINT_URL` (the local server's embedded store, tests). Anything else is left to
botocore: `lean_endpoint` answers None. tests/layer/aws/test_aws_endpoints.py compares this with
botocore's resolution for every region botocore knows.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Partitions (botocore/data/partitions.json): region pattern -> DNS suffix.
_PARTITIONS = (
    (re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$"), "amazonaws.com"),
    (re.compile(r"^cn\-\w+\-\d+$"), "amazonaws.com.cn"),
    (re.compile(r"^eusc\-(de)\-\w+\-\d+$"), "amazonaws.eu"),
    (re.compile(r"^us\-iso\-\w+\-\d+$"), "c2s.ic.gov"),
    (re.compile(r"^us\-isob\-\w+\-\d+$"), "sc2s.sgov.gov"),
    (re.compile(r"^eu\-isoe\-\w+\-\d+$"), "cloud.adc-e.uk"),
    (re.compile(r"^us\-isof\-\w+\-\d+$"), "csp.hci.ic.gov"),
    (re.compile(r"^us\-gov\-\w+\-\d+$"), "amazonaws.com"),
)
_TRUE = "true"
# Settings under which botocore's rules pick another endpoint, or send through a proxy.
_OTHER_ENDPOINT_SETTINGS = ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")
_PROXY_SETTINGS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str


def region_from_environment() -> str | None:
    region = os.environ.get("AWS_DEFAULT_REGION", "")
    return region if re.fullmatch(r"(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)", region) else None


def _configured_url(service_env_name: str) -> str | None:
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == _TRUE:
        return None
    return os.environ.get(f"AWS_ENDPOINT_URL_{service_env_name}") or os.environ.get("AWS_ENDPOINT_URL") or None


def _plain_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment


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
    region = region_from_environment()
    if region is None or _shared_config_in_play() or any(os.environ.get(name) for name in _PROXY_SETTINGS):
        return None
    configured = _configured_url(service_env_name)
    if configured is not None:
        return Endpoint(configured, region) if _plain_url(configured) else None
    if any(os.environ.get(name, "").lower() == _TRUE for name in _OTHER_ENDPOINT_SETTINGS):
        return None
    if account_endpoints and os.environ.get("AWS_ACCOUNT_ID") and os.environ.get("AWS_ACCOUNT_ID_ENDPOINT_MODE") != "disabled":
        return None
    for pattern, dns_suffix in _PARTITIONS:
        if pattern.match(region):
            return Endpoint(f"https://{prefix}.{region}.{dns_suffix}", region)
    return None
