"""botocore's "standard" retry mode (botocore/retries/standard.py, quota.py, special.py), as
decisions on one attempt's outcome: whether to retry, after how long, and what to record.

- Retried: transient errors (codes `RequestTimeout`, `RequestTimeoutException`,
  `PriorRequestNotComplete`; HTTP 500, 502, 503, 504; no response at all), throttles (the
  codes below; a 429 whose code the operation does not model), errors the model marks
  retryable, and a DynamoDB response whose CRC32 does not match its `x-amz-crc32`; at most
  `max_attempts` attempts in all (`MaxAttemptsReached` is recorded once there).
- Back-off: `random() * min(scale * 2 ** (attempt - 1), 20)` seconds, `scale` 1 s for throttles
  and the service's base otherwise; raised to `x-amz-retry-after` (ms), at most 5 s more.
- A retry quota per client: 500 units; a retry costs 14 (5 for a throttle); a successful call
  gives back what its retries took, or 1 when it needed none. An empty quota stops retrying
  (`RetryQuotaReached`).

tests/layer/aws/test_aws_json_client.py drives the same failures through botocore and this client
and compares the attempts, the sleeps, the headers and the outcome.
"""

import random
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError

from shop_common.aws.services import OperationSpec, ServiceSpec

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_STATUSES = frozenset({429})
MAX_BACKOFF = 20.0
THROTTLING_SCALE = 1.0
RETRY_AFTER_HEADER = "x-amz-retry-after"
RETRY_AFTER_MAX_ADDITIONAL = 5.0
QUOTA = 500
RETRY_COST = 14
THROTTLING_RETRY_COST = 5
NO_RETRY_INCREMENT = 1


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a response (its status, headers, body and error code, if it is an
    error), or the exception raised instead."""

    status: int | None = None
    headers: Mapping[str, str] | None = None
    body: bytes = b""
    error_code: str | None = None
    exception: BaseException | None = None


class RetryQuota:
    def __init__(self, capacity: int = QUOTA) -> None:
        self._max = capacity
        self.available = capacity
        self._lock = threading.Lock()

    def acquire(self, amount: int) -> bool:
        with self._lock:
            if amount > self.available:
                return False
            self.available -= amount
            return True

    def release(self, amount: int) -> None:
        if self.available == self._max:
            return
        with self._lock:
            self.available += min(self._max - self.available, amount)


class StandardRetries:
    """The retry decisions of one client (its quota is shared by its calls)."""

    def __init__(self, service: ServiceSpec, *, draw: Callable[[], float] = random.random) -> None:
        self.max_attempts = service.max_attempts
        self._service = service
        self._draw = draw
        self.quota = RetryQuota()

    def delay(
        self, operation: OperationSpec, attempt: int, outcome: Outcome, call: dict[str, Any], metadata: dict[str, Any]
    ) -> float | None:
        """Seconds to wait before the next attempt, or None not to retry. `call` holds the call's
        state across attempts (the quota its last retry took); `metadata` receives the marks for
        this attempt's ResponseMetadata (`MaxAttemptsReached`, `RetryQuotaReached`)."""
        if attempt >= self.max_attempts:
            metadata["MaxAttemptsReached"] = True
            return None
        if not self._retryable(operation, outcome):
            return None
        throttle = self._is_throttle(operation, outcome)
        cost = THROTTLING_RETRY_COST if throttle else RETRY_COST
        if not self.quota.acquire(cost):
            metadata["RetryQuotaReached"] = True
            return None
        call["quota"] = cost
        scale = THROTTLING_SCALE if throttle else self._service.backoff_scale
        delay: float = self._draw() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF)
        retry_after = _retry_after(outcome)
        if retry_after is not None:
            return max(delay, min(retry_after, RETRY_AFTER_MAX_ADDITIONAL + delay))
        return delay

    def release(self, call: Mapping[str, Any], status: int) -> None:
        """After a call that got a response: a success gives back its retries' quota."""
        if 200 <= status < 300:
            self.quota.release(call.get("quota", NO_RETRY_INCREMENT))

    def _retryable(self, operation: OperationSpec, outcome: Outcome) -> bool:
        code = outcome.error_code
        if code in TRANSIENT_CODES or outcome.status in TRANSIENT_STATUSES:
            return True
        if outcome.exception is not None and isinstance(outcome.exception, BotocoreConnectionError | HTTPClientError):
            return True
        if code in THROTTLING_CODES or self._throttling_status(operation, outcome):
            return True
        if code is not None and code in operation.retryable_errors:
            return True
        return self._bad_checksum(outcome)

    def _is_throttle(self, operation: OperationSpec, outcome: Outcome) -> bool:
        code = outcome.error_code
        if code in THROTTLING_CODES:
            return True
        if code is not None and code in operation.retryable_errors:
            return False  # modeled retryable, and none of them is a throttle
        return self._throttling_status(operation, outcome)

    @staticmethod
    def _throttling_status(operation: OperationSpec, outcome: Outcome) -> bool:
        return outcome.status in THROTTLING_STATUSES and outcome.error_code not in operation.errors

    def _bad_checksum(self, outcome: Outcome) -> bool:
        if not self._service.checks_crc32 or outcome.headers is None:
            return False
        expected = outcome.headers.get("x-amz-crc32")
        return expected is not None and zlib.crc32(outcome.body) & 0xFFFFFFFF != int(expected)


def _retry_after(outcome: Outcome) -> float | None:
    raw = outcome.headers.get(RETRY_AFTER_HEADER) if outcome.headers is not None else None
    if raw is None:
        return None
    try:
        value = int(raw) / 1000.0
    except (ValueError, OverflowError):
        return None
    return value if value >= 0 else None
