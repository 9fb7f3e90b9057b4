"""Standard Webhooks signatures (https://www.standardwebhooks.com): `v1,` and the base64
HMAC-SHA256, keyed with the secret's bytes, of `<webhook-id>.<webhook-timestamp>.<body>`. During
a rotation's overlap a delivery carries one signature per valid secret, space-separated, so a
receiver holding either verifies it. The tests verify these with the specification's own
library, not with this code."""

import base64
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature_header(secrets: Sequence[str], message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return " ".join(
        "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode() for secret in secrets
    )
