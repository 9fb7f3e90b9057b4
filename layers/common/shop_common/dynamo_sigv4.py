"""Signature Version 4 for the lean DynamoDB path: the same `Authorization` header botocore's
`SigV4Auth` computes, with the signing key derived once per secret key, day, region and service
instead of four HMACs on every request.

Only what DynamoDB's JSON requests need: a POST with a body and no query string is signed
with the SHA-256 of its body. `dynamo_wire` checks this signer against the `Authorization`
botocore put on a real request before it signs any request itself.
"""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from botocore.auth import SIGNED_HEADERS_BLACKLIST
from botocore.credentials import ReadOnlyCredentials
from botocore.utils import normalize_url_path

_UNSIGNED_HEADERS = frozenset(SIGNED_HEADERS_BLACKLIST)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The `host` botocore signs: lower case, without user info or the scheme's default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def canonical_path_and_query(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    path = quote(normalize_url_path(parts.path), safe="/~")
    pairs = sorted(pair.partition("=")[::2] for pair in parts.query.split("&")) if parts.query else []
    return path, "&".join(f"{key}={value}" for key, value in pairs)


@dataclass(frozen=True)
class Scope:
    """Where a request is signed for: its endpoint and the credential scope's region and service."""

    url: str
    region: str
    service: str

    @property
    def host(self) -> str:
        return host_of(self.url)


class SigV4Signer:
    """Signs requests for one scope. The key of the last (secret, day) is kept: a day's key
    serves every request of that day, and a refreshed secret simply derives a new one."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._host = scope.host
        self._path, self._query = canonical_path_and_query(scope.url)
        self._suffix = f"/{scope.region}/{scope.service}/aws4_request"
        self._key: tuple[str | None, str, bytes] = ("", "", b"")

    def _signing_key(self, secret_key: str | None, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret == secret_key and cached_day == day:
            return key
        key = _hmac(f"AWS4{secret_key}".encode(), day)  # as botocore, whatever the secret's type
        for part in (self.scope.region, self.scope.service, "aws4_request"):
            key = _hmac(key, part)
        self._key = (secret_key, day, key)
        return key

    def authorization(self, headers: Mapping[str, str], body: bytes, credentials: ReadOnlyCredentials, amz_date: str) -> str:
        """The `Authorization` value for a POST of `body` with `headers` (which must already hold
        `X-Amz-Date` and, with session credentials, `X-Amz-Security-Token`)."""
        signed = {"host": self._host} if not any(name.lower() == "host" for name in headers) else {}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in _UNSIGNED_HEADERS:
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
