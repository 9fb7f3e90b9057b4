"""Where requests get their credentials: the environment, as Lambda provides them, else
botocore's own provider chain.

botocore looks in the environment first (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and a
token in `AWS_SECURITY_TOKEN` or `AWS_SESSION_TOKEN`), so reading them directly gives the same
credentials without importing botocore's session machinery (~100 ms of a cold start). Anything
else (profiles, SSO, containers, instance roles, SnapStart's container credentials, variables
that expire) is botocore's chain, imported when first needed, with its refreshing.
"""

import os
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


class CredentialSource(Protocol):
    def frozen(self) -> Credentials:
        """The credentials to sign the next request with."""
        ...


@dataclass(frozen=True)
class StaticCredentials:
    credentials: Credentials

    def frozen(self) -> Credentials:
        return self.credentials


class BotocoreCredentials:
    """botocore's default provider chain, resolved once; refreshable credentials refresh."""

    def __init__(self) -> None:
        import botocore.session
        from botocore.exceptions import NoCredentialsError

        self._resolved: Any = botocore.session.get_session().get_credentials()
        self._missing = NoCredentialsError

    def frozen(self) -> Credentials:
        if self._resolved is None:
            raise self._missing()
        current = self._resolved.get_frozen_credentials()
        return Credentials(current.access_key, current.secret_key, current.token)


def from_environment() -> StaticCredentials | None:
    """The credentials in the environment as botocore reads them, when they are a static set;
    None when botocore's chain decides (none there, partial ones, or ones that expire)."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not access_key or not secret_key or os.environ.get("AWS_CREDENTIAL_EXPIRATION"):
        return None
    token = os.environ.get("AWS_SECURITY_TOKEN") or os.environ.get("AWS_SESSION_TOKEN") or None
    return StaticCredentials(Credentials(access_key, secret_key, token))


def default_source() -> CredentialSource:
    return from_environment() or BotocoreCredentials()
