"""Calls boto3's client serves because the lean client cannot: logged once and counted.

Where the environment does not decide the endpoint and credentials alone (a config file, a
proxy, FIPS, another partition) or for an operation the lean client does not make, the call
goes to boto3's client: correct, but it costs a cold start ~160 ms and a warm call ~1 ms more.
In Lambda each such call adds 1 to the CloudWatch metric `AwsClientFallbacks` (namespace
`POWERTOOLS_METRICS_NAMESPACE`, dimension `service`), written as an embedded-metric-format line
as powertools' Metrics writes it, and the first of each kind is logged as a warning, so a
deployment that lost its lean path shows on a dashboard rather than only in its latency.
Outside Lambda (tests, `make run`, shopctl) nothing is written: their setup calls (tables,
waiters) are not request paths.
"""

import json
import logging
import os
import time

METRIC = "AwsClientFallbacks"
logger = logging.getLogger(__name__)
_logged: set[tuple[str, str, str]] = set()


def report(service: str, operation: str, reason: str) -> None:
    """One call of `service`'s `operation` served by boto3's client, for `reason`."""
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    kind = (service, operation, reason)
    if kind not in _logged:
        _logged.add(kind)
        logger.warning("boto3's client serves %s %s: %s (logged once; metric %s)", service, operation, reason, METRIC)
    function_service = os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined")
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ShopApi"),
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": METRIC, "Unit": "Count"}],
                }
            ],
        },
        "service": function_service,
        METRIC: 1,
        "aws_service": service,
        "operation": operation,
        "reason": reason,
    }
    print(json.dumps(line, separators=(",", ":")), flush=True)


def forget_logged() -> None:
    """Log each kind again (tests)."""
    _logged.clear()
