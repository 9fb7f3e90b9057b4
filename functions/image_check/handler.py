"""Lambda handler for S3 ObjectCreated events of the images bucket: each uploaded photo is
checked (upload_check) before it appears among its product's images."""

from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from image_check.upload_check import check_upload

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    # An error propagates: Lambda retries the event (twice), then sends it to the dead-letter
    # queue; every step of a check can be repeated safely.
    outcomes: dict[str, int] = {}
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # event keys are URL-encoded
        outcome = check_upload(bucket, key)
        logger.info("Upload checked", extra={"key": key, "outcome": outcome})
        kind = outcome.split(":")[0]
        outcomes[kind] = outcomes.get(kind, 0) + 1
    return outcomes
