"""Where the local store lives and how a process points the shop's code at it.

`make run` serves an embedded DynamoDB (with the Secrets Manager holding the local JWT key and
the S3 holding product photos) on one port; `shopctl` and the tests find it the same way: `DB_PORT`, else the default port.
"""

import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

from shoplocal.template import PROJECT_ROOT

DEFAULT_DB_PORT = 8000  # DynamoDB Local's port, so tools configured for it work unchanged
DEFAULT_API_PORT = 3000  # `sam local start-api`'s port
HOST = "127.0.0.1"
# The embedded store keeps one database whatever region a client signs for (as DynamoDB
# Local's -sharedDb does); this is the region the shop's own code uses.
REGION = "us-east-1"
TABLE_NAME = "shop-local"
SECRET_NAME = "shop-local-jwt-signing-key"  # noqa: S105 - the secret's name, not its value
IMAGES_BUCKET = "shop-local-images"  # template.yaml's ImagesBucket, in the store's S3
# The template's queues, bus and rules are made in the store with this prefix (shoplocal.run).
RESOURCE_PREFIX = "shop-local"
EVENT_BUS = f"{RESOURCE_PREFIX}-EventBus"  # template.yaml's EventBus
# The dummy credentials every local client uses; the store's S3 checks upload forms signed with them.
ACCESS_KEY_ID = "local"
SECRET_ACCESS_KEY = "local"  # noqa: S105 - a fixed local value, as DynamoDB Local's
DEFAULT_DATA_DIR = PROJECT_ROOT / ".local-data"


def db_port() -> int:
    """The store's port: `DB_PORT` if set, else 8000."""
    raw = os.environ.get("DB_PORT", "")
    return int(raw) if raw.strip() else DEFAULT_DB_PORT


def endpoint_url(port: int | None = None) -> str:
    return f"http://{HOST}:{port or db_port()}"


def data_dir() -> Path:
    """Where the store's snapshot and the local signing key are kept (`SHOP_DATA_DIR` overrides)."""
    return Path(os.environ.get("SHOP_DATA_DIR") or DEFAULT_DATA_DIR)


def is_listening(url: str, timeout: float = 0.5) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 80), timeout=timeout):
            return True
    except OSError:
        return False


def use_local_store(url: str, *, table_name: str = TABLE_NAME) -> None:
    """Point boto3 in this process at the embedded store: its endpoint, a fixed region and dummy
    credentials (so nothing can reach a real AWS account by accident), and the local table."""
    overrides = (
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", *overrides):
        os.environ.pop(name, None)
    os.environ.update(
        {
            # No profile or config file of the developer's applies: the store is the only AWS here.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "TABLE_NAME": table_name,
            "JWT_SECRET_ID": SECRET_NAME,
            "IMAGES_BUCKET": IMAGES_BUCKET,
        }
    )
