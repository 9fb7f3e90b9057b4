"""X-Ray subsegments for the lean client's calls, written as the X-Ray SDK writes them: one
document per call (`namespace` "aws", the operation, region, table, retries, status), sent by
UDP to the daemon Lambda runs beside a traced function, under the invocation's segment.

Only when tracing is on: Lambda sets `_X_AMZN_TRACE_ID` for each invocation, with `Sampled=1`
when X-Ray records it (`Tracing: Active` in template.yaml) and the daemon's address in
`AWS_XRAY_DAEMON_ADDRESS`. Otherwise (and with `POWERTOOLS_TRACE_DISABLED=true`) a call costs
one look at the environment. No X-Ray SDK is imported: it would patch botocore, whose client
machinery the lean client exists to avoid (docs/operations.md, Tracing).
"""

import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Recorder = Callable[[dict[str, Any]], None]  # receives each finished subsegment
_HEADER = b'{"format": "json", "version": 1}\n'
_DEFAULT_DAEMON = ("127.0.0.1", 2000)


def _daemon_address() -> tuple[str, int]:
    """`AWS_XRAY_DAEMON_ADDRESS`: host:port, or "tcp:host:port udp:host:port" (the UDP one)."""
    value = os.environ.get("AWS_XRAY_DAEMON_ADDRESS", "")
    for part in value.split():
        if part.startswith("udp:"):
            value = part[4:]
    host, _, port = value.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else _DEFAULT_DAEMON


def send_to_daemon(document: dict[str, Any]) -> None:
    """The X-Ray daemon's UDP protocol: a header line, then the document."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.sendto(_HEADER + json.dumps(document, separators=(",", ":")).encode(), _daemon_address())


_recorder: Recorder = send_to_daemon


def use_recorder(recorder: Recorder | None) -> None:
    """Hand the subsegments to `recorder` (tests); None: the daemon again."""
    global _recorder
    _recorder = recorder or send_to_daemon


@dataclass
class Subsegment:
    trace_id: str
    parent_id: str
    name: str
    operation: str
    region: str
    table: str | None
    start: float

    def end(self, status: int | None, request_id: str | None, attempts: int, error: BaseException | None) -> None:
        document: dict[str, Any] = {
            "id": secrets.token_hex(8),
            "name": self.name,
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "type": "subsegment",
            "namespace": "aws",
            "start_time": self.start,
            "end_time": time.time(),
            "aws": {"operation": self.operation, "region": self.region, "retries": attempts - 1}
            | ({"table_name": self.table} if self.table else {})
            | ({"request_id": request_id} if request_id else {}),
        }
        if status is not None:
            document["http"] = {"response": {"status": status}}
            if status == 429:
                document["throttle"] = True
            if 400 <= status < 500:
                document["error"] = True
            elif status >= 500:
                document["fault"] = True
        if error is not None:
            document["fault"] = True
            cause = {"id": secrets.token_hex(8), "type": type(error).__name__, "message": str(error)}
            document["cause"] = {"exceptions": [cause]}
        with contextlib.suppress(OSError):  # tracing never fails a call
            _recorder(document)


def begin(name: str, operation: str, region: str, params: Mapping[str, Any]) -> Subsegment | None:
    """A subsegment for a call starting now, when this invocation is traced; else None."""
    header = os.environ.get("_X_AMZN_TRACE_ID")
    if not header or "Sampled=1" not in header or os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true":
        return None
    fields = dict(part.partition("=")[::2] for part in header.split(";"))
    if not fields.get("Root") or not fields.get("Parent"):
        return None
    table = params.get("TableName")
    table_name = table if isinstance(table, str) else None
    return Subsegment(fields["Root"], fields["Parent"], name, operation, region, table_name, time.time())
