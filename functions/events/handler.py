"""Lambda handler for the table's DynamoDB stream: each batch of item changes becomes domain
events on the stack's EventBridge bus (docs/events.md). Reports a partial batch failure (the
first record not published) so Lambda retries from there and nothing after it overtakes it."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from events.event_bus import publish
from events.stream_publisher import publish_records
from shop_common.snapstart import register_hooks

logger = Logger()
register_hooks()  # SnapStart: prepare before the snapshot, refresh after restore


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    failed = publish_records(event.get("Records", []), publish)
    return {"batchItemFailures": [{"itemIdentifier": failed}] if failed else []}
