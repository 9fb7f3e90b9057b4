"""The embedded DynamoDB: moto's server on a local port, atomic under concurrency, with one
shared database whatever region a client signs for, and a snapshot on disk that a restart
loads back. Writes are saved within `save_interval` seconds (a `kill -9` loses at most that).
"""

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplocal.store import snapshots
from shoplocal.store.local_store import REGION
from shoplocal.store.moto_atomic import make_dynamodb_atomic

log = logging.getLogger("shoplocal.store")

ACCOUNT_ID = "123456789012"
SNAPSHOT_FILE = "dynamodb.json"
_READ_ACTIONS = frozenset(
    {
        "BatchGetItem",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTimeToLive",
        "GetItem",
        "ListBackups",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)


@dataclass(frozen=True)
class RestoredState:
    items: int
    seconds: float


class EmbeddedStore:
    def __init__(self, host: str, port: int, data_dir: Path, save_interval: float = 0.5) -> None:
        self.host = host
        self.port = port
        self.snapshot_path = data_dir / SNAPSHOT_FILE
        self._save_interval = save_interval
        self._writes = 0  # requests that may have changed data; compared with the last saved count
        self._saved_writes = 0
        self._stop = threading.Event()
        self._server: Any = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT_ID][REGION]

    def _before_dynamodb_request(self, handler: Any) -> None:
        # One database for every client, as DynamoDB Local's -sharedDb: the AWS CLI configured
        # for another region (or account) still sees the shop's table.
        handler.region = REGION
        handler.current_account = ACCOUNT_ID
        if handler._get_action() not in _READ_ACTIONS:
            self._writes += 1

    def restore(self) -> RestoredState | None:
        """Load the last snapshot, if there is one. Raises SnapshotError if it is unreadable."""
        if not self.snapshot_path.exists():
            return None
        started = time.perf_counter()
        items = snapshots.restore(self.backend, snapshots.read(self.snapshot_path))
        return RestoredState(items, time.perf_counter() - started)

    def start(self) -> None:
        """Bind the port (OSError if taken) and serve in background threads."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        make_dynamodb_atomic(before_action=self._before_dynamodb_request)
        # werkzeug logs every DynamoDB call; the API's own request log is the one a developer reads.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        application = DomainDispatcherApplication(create_backend_app)
        # Bind here rather than in werkzeug, which prints and exits on a taken port; the backlog
        # lets many clients connect at once.
        with socket.create_server((self.host, self.port), backlog=128) as listener:
            self.port = listener.getsockname()[1]
            self._server = make_server(
                self.host, self.port, application, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
            )
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="dynamodb-server", daemon=True),
            threading.Thread(target=self._save_periodically, name="dynamodb-snapshots", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def save(self) -> bool:
        """Write a snapshot if anything may have changed since the last one."""
        writes = self._writes
        if writes == self._saved_writes and self.snapshot_path.exists():
            return False
        snapshots.write(snapshots.capture(self.backend), self.snapshot_path)
        self._saved_writes = writes
        return True

    def _save_periodically(self) -> None:
        while not self._stop.wait(self._save_interval):
            try:
                self.save()
            except OSError as error:  # disk full, folder removed: keep serving, say so
                log.error("could not save the local store to %s: %s", self.snapshot_path, error)

    def stop(self) -> None:
        """Stop serving and save what is left."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
        for thread in self._threads:
            thread.join()
        self.save()
