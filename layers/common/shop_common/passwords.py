"""Password hashing in Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>` format.

PBKDF2-HMAC-SHA256 at OWASP's current minimum of 600,000 iterations: standard-library only (no
native dependency in the layer), and hashes of users migrated from the Django app verify as
they are. Hashes of Django's older PBKDF2-SHA1 hasher (`pbkdf2_sha1$...`) verify too; sign-in
replaces any hash with fewer iterations or another algorithm (`needs_rehash`). Verifying for an
unknown user does the same work as for a known one, so response time does not reveal which
usernames exist.
"""

import base64
import hashlib
import hmac
import secrets
import string

ALGORITHM = "pbkdf2_sha256"
# Django's hasher names and the digest each uses; hashes of others never verify.
_DIGESTS = {ALGORITHM: "sha256", "pbkdf2_sha1": "sha1"}
ITERATIONS = 600_000
# Refuse absurd work factors in stored hashes (a corrupt or hostile import must not pin a CPU).
MAX_ITERATIONS = 10_000_000
_SALT_ALPHABET = string.ascii_letters + string.digits


def _derive(password: str, salt: str, iterations: int, digest: str = "sha256") -> bytes:
    return hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), iterations)


def hash_password(password: str, *, iterations: int | None = None) -> str:
    iterations = iterations or ITERATIONS
    salt = "".join(secrets.choice(_SALT_ALPHABET) for _ in range(22))  # as Django does
    digest = base64.b64encode(_derive(password, salt, iterations)).decode("ascii")
    return f"{ALGORITHM}${iterations}${salt}${digest}"


def is_verifiable(encoded: str | None) -> bool:
    """True for a hash sign-in can check a password against: one of the PBKDF2 formats above,
    with a sane work factor (not Django's unusable "!...", nor its argon2 or bcrypt hashes)."""
    parts = (encoded or "").split("$")
    return len(parts) == 4 and parts[0] in _DIGESTS and parts[1].isdigit() and 0 < int(parts[1]) <= MAX_ITERATIONS


def verify_password(password: str, encoded: str | None) -> bool:
    """True if `password` matches `encoded`. `None` (no such user) costs the same and is False."""
    if encoded is None or not is_verifiable(encoded):
        # Same work as a real check, against nothing that can match.
        _derive(password, secrets.token_hex(11), ITERATIONS)
        return False
    algorithm, iterations, salt, expected = encoded.split("$")
    computed = base64.b64encode(_derive(password, salt, int(iterations), _DIGESTS[algorithm])).decode("ascii")
    return hmac.compare_digest(computed, expected)


def needs_rehash(encoded: str) -> bool:
    """True for a hash made with another algorithm or fewer iterations than today's."""
    algorithm, _, rest = encoded.partition("$")
    iterations = rest.partition("$")[0]
    return algorithm != ALGORITHM or not iterations.isdigit() or int(iterations) < ITERATIONS
