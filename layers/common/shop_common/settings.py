"""Settings read from the function's environment, which `template.yaml` sets.

Read lazily (at first use, not import) so tests and the local server can set the environment
after importing a handler.
"""

import os


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def table_name() -> str:
    return os.environ["TABLE_NAME"]


def jwt_secret_id() -> str:
    """Name or ARN of the Secrets Manager secret that holds the JWT signing key."""
    return os.environ["JWT_SECRET_ID"]


def access_token_lifetime() -> int:
    """Seconds an access token stays valid (default 1 day, as the Django app's)."""
    return _int_env("ACCESS_TOKEN_LIFETIME_SECONDS", 86_400)


def refresh_token_lifetime() -> int:
    """Seconds a refresh token stays valid (default 1 week, as the Django app's)."""
    return _int_env("REFRESH_TOKEN_LIFETIME_SECONDS", 604_800)


def sign_up_enabled() -> bool:
    """Whether POST /api/register creates accounts (template parameter SignUpEnabled)."""
    return os.environ.get("SIGN_UP_ENABLED", "true").strip().lower() == "true"


def rotate_refresh_tokens() -> bool:
    """Whether refresh answers a new refresh token and revokes the old one (template parameter
    RotateRefreshTokens; simplejwt's ROTATE_REFRESH_TOKENS with BLACKLIST_AFTER_ROTATION)."""
    return os.environ.get("ROTATE_REFRESH_TOKENS", "false").strip().lower() == "true"


def images_base_url() -> str:
    """Where product photos are served from, without a trailing slash: the CloudFront
    distribution in front of the images bucket (template.yaml), or the local server's."""
    return os.environ.get("IMAGES_BASE_URL", "").rstrip("/")
