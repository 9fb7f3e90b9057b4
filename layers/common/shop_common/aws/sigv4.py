"""Signature Version 4 for JSON-protocol requests: the `Authorization` header botocore's
`SigV4Auth` computes, with the signing key derived once per secret key and day instead of four
HMACs on every request.

Only what the JSON protocol needs: a POST with a body and no query string, signed with the
SHA-256 of its body. tests/layer/aws/test_aws_sigv4.py holds it to botocore's signer on random
requests, headers, days and credentials.
"""

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from shop_common.aws.credentials import Credentials

# Headers botocore leaves out of the signature (botocore.auth.SIGNED_HEADERS_BLACKLIST).
UNSIGNED_HEADERS = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The `Host` an HTTP client sends and botocore signs: lower case, without user info or the
    scheme's default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _remove_dot_segments(path: str) -> str:
    """botocore's `normalize_url_path`: RFC 3986 dot segments, and no empty segments."""
    if not path:
        return "/"
    output: list[str] = []
    for segment in path.split("/"):
        if segment and segment != ".":
            if segment == "..":
                if output:
                    output.pop()
            else:
                output.append(segment)
    first = "/" if path[0] == "/" else ""
    last = "/" if path[-1] == "/" and output else ""
    return first + "/".join(output) + last


def canonical_path_and_query(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = quote(_remove_dot_segments(parts.path), safe="/~")
    pairs = sorted(pair.partition("=")[::2] for pair in parts.query.split("&")) if parts.query else []
    return path, "&".join(f"{key}={value}" for key, value in pairs)


class SigV4Signer:
    """Signs POSTs to one URL for one region and service. The key of the last (secret, day) is
    kept: a day's key serves every request of that day, and new credentials derive a new one."""

    def __init__(self, url: str, region: str, service: str) -> None:
        self.url = url
        self.region = region
        self.service = service
        self._host = host_of(url)
        self._path, self._query = canonical_path_and_query(url)
        self._suffix = f"/{region}/{service}/aws4_request"
        self._key: tuple[str | None, str, bytes] = ("", "", b"")

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret == secret_key and cached_day == day:
            return key
        key = _hmac(f"AWS4{secret_key}".encode(), day)
        for part in (self.region, self.service, "aws4_request"):
            key = _hmac(key, part)
        self._key = (secret_key, day, key)
        return key

    def authorization(self, headers: Mapping[str, str], body: bytes, credentials: Credentials, amz_date: str) -> str:
        """The `Authorization` value for a POST of `body` with `headers` (which must already hold
        `X-Amz-Date` and, with session credentials, `X-Amz-Security-Token`)."""
        signed = {"host": self._host} if not any(name.lower() == "host" for name in headers) else {}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in UNSIGNED_HEADERS:
                signed[lower] = " ".join(value.split())
        names = sorted(signed)
        signed_headers = ";".join(names)
        canonical_headers = "\n".join(f"{name}:{signed[name]}" for name in names)
        payload = hashlib.sha256(body).hexdigest()
        canonical = f"POST\n{self._path}\n{self._query}\n{canonical_headers}\n\n{signed_headers}\n{payload}"
        day = amz_date[:8]
        scope = f"{day}{self._suffix}"
        string_to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(credentials.secret_key, day), string_to_sign.encode(), hashlib.sha256).hexdigest()
        return (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()
