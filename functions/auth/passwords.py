"""Password hashing in Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>` format.

PBKDF2-HMAC-SHA256 at OWASP's current minimum of 600,000 iterations: standard-library only (no
native dependency in the layer), and hashes of users migrated from the Django app verify as
they are. Verifying for an unknown user does the same work as for a known one, so response
time does not reveal which usernames exist.
"""

import base64
import hashlib
import hmac
import secrets
import string

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
# Refuse absurd work factors in stored hashes (a corrupt or hostile import must not pin a CPU).
MAX_ITERATIONS = 10_000_000
_SALT_ALPHABET = string.ascii_letters + string.digits


def _derive(password: str, salt: str, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)


def hash_password(password: str, *, iterations: int | None = None) -> str:
    iterations = iterations or ITERATIONS
    salt = "".join(secrets.choice(_SALT_ALPHABET) for _ in range(22))  # as Django does
    digest = base64.b64encode(_derive(password, salt, iterations)).decode("ascii")
    return f"{ALGORITHM}${iterations}${salt}${digest}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True if `password` matches `encoded`. `None` (no such user) costs the same and is False."""
    parts = (encoded or "").split("$")
    well_formed = len(parts) == 4 and parts[0] == ALGORITHM and parts[1].isdigit() and 0 < int(parts[1]) <= MAX_ITERATIONS
    if not well_formed:
        # Same work as a real check, against nothing that can match.
        _derive(password, secrets.token_hex(11), ITERATIONS)
        return False
    _, iterations, salt, expected = parts
    computed = base64.b64encode(_derive(password, salt, int(iterations))).decode("ascii")
    return hmac.compare_digest(computed, expected)
