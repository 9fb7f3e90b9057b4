"""Signature Version 4 for JSON-protocol requests: a POST of a body to an endpoint's root, no
query string. The signing key is derived once per secret key and day rather than with four
HMACs on every request. tests/layer/aws/test_aws_sigv4.py holds it to botocore's `SigV4Auth`.
"""

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

from shop_common.aws.credentials import Credentials

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The `Host` an HTTP client sends: lower case, without the scheme's default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class SigV4Signer:
    """Signs POSTs to one endpoint for one region and service."""

    def __init__(self, url: str, region: str, service: str) -> None:
        self._host = host_of(url)
        self._region = region
        self._service = service
        self._suffix = f"/{region}/{service}/aws4_request"
        self._key: tuple[str | None, str, bytes] = (None, "", b"")

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret == secret_key and cached_day == day:
            return key
        key = _hmac(f"AWS4{secret_key}".encode(), day)
        for part in (self._region, self._service, "aws4_request"):
            key = _hmac(key, part)
        self._key = (secret_key, day, key)
        return key

    def authorization(self, headers: Mapping[str, str], body: bytes, credentials: Credentials, amz_date: str) -> str:
        """The `Authorization` value for a POST of `body` that signs `headers` and the host
        (`headers` must hold `X-Amz-Date` and, with session credentials, `X-Amz-Security-Token`)."""
        signed = {"host": self._host} | {name.lower(): " ".join(value.split()) for name, value in headers.items()}
        names = sorted(signed)
        signed_headers = ";".join(names)
        canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
        canonical = f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
        day = amz_date[:8]
        scope = f"{day}{self._suffix}"
        string_to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, day), string_to_sign.encode(), hashlib.sha256).hexdigest()
        return (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()
