"""S3 event notifications, locally: the functions `template.yaml` subscribes to a bucket's
ObjectCreated events (a SAM `S3` event) run when an object is created in the embedded store's S3.

S3 invokes Lambda asynchronously: the upload's answer does not wait for the function, and a
failure is logged (Lambda would retry it twice, then send it to the dead-letter queue).
"""

import logging
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from shoplocal.gateway.local_gateway import LocalGateway
from shoplocal.template import load_template

log = logging.getLogger("shoplocal.api")


@dataclass(frozen=True)
class S3Subscription:
    function: str  # the function's logical id
    bucket: str  # the bucket's logical id
    events: tuple[str, ...]  # e.g. "s3:ObjectCreated:*"
    prefix: str = ""
    suffix: str = ""

    def matches(self, key: str) -> bool:
        created = any(event.startswith("s3:ObjectCreated:") for event in self.events)
        return created and key.startswith(self.prefix) and key.endswith(self.suffix)


def s3_subscriptions(template: Mapping[str, Any]) -> list[S3Subscription]:
    """Every function's `S3` events (the bucket must be a `!Ref` to a bucket of the template)."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "S3":
                continue
            properties = event["Properties"]
            events = properties["Events"]
            key_rules = properties.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            rules = {rule["Name"].lower(): rule["Value"] for rule in key_rules}
            found.append(
                S3Subscription(
                    function=logical_id,
                    bucket=properties["Bucket"]["Ref"],
                    events=tuple(events if isinstance(events, list) else [events]),
                    prefix=rules.get("prefix", ""),
                    suffix=rules.get("suffix", ""),
                )
            )
    return found


def object_created_event(bucket: str, key: str, size: int, region: str) -> dict[str, Any]:
    """S3's event for a created object (the fields a handler reads; the key URL-encoded, as S3 sends it)."""
    now = datetime.now(UTC)
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": size, "sequencer": uuid.uuid4().hex[:16].upper()},
                },
            }
        ]
    }


class S3Notifier:
    """Runs the subscribed functions of `gateway` for objects created in the named buckets
    (`bucket_names`: logical id -> the bucket's local name)."""

    def __init__(self, gateway: LocalGateway, bucket_names: Mapping[str, str], region: str) -> None:
        self.gateway = gateway
        self.region = region
        names = dict(bucket_names)
        self.subscriptions = [
            (names[subscription.bucket], subscription)
            for subscription in s3_subscriptions(load_template(gateway.template_path))
            if subscription.bucket in names
        ]

    def __call__(self, bucket: str, key: str, size: int) -> None:
        for bucket_name, subscription in self.subscriptions:
            if bucket_name != bucket or not subscription.matches(key):
                continue
            started = time.perf_counter()
            try:
                invocation = self.gateway.containers.invoke(
                    subscription.function, object_created_event(bucket, key, size, self.region)
                )
                cold = " (cold start)" if invocation.cold_start else ""
                milliseconds = (time.perf_counter() - started) * 1000
                log.info("S3 %s/%s %.1f ms %s%s", bucket, key, milliseconds, subscription.function, cold)
            except Exception:
                log.error("%s failed on %s/%s:\n%s", subscription.function, bucket, key, traceback.format_exc().rstrip())
