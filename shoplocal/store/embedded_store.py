"""The embedded DynamoDB (and S3: `s3_store`): moto's server on a local port, atomic under concurrency, with one
shared database whatever region a client signs for, and its data kept on disk: every write is
journaled and on disk before its answer leaves (`persistence`), so a `kill -9` loses nothing
acknowledged.
"""

import logging
import threading
from pathlib import Path
from typing import Any

from shoplocal.store import fast_lane, wsgi_server
from shoplocal.store.event_paths import parse_input_paths_once
from shoplocal.store.local_store import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from shoplocal.store.moto_atomic import make_dynamodb_atomic
from shoplocal.store.moto_dispatch import dispatch_without_reflection
from shoplocal.store.persistence import Persistence, RestoredState
from shoplocal.store.queue_clock import read_the_clock_once_per_pass
from shoplocal.store.s3_store import S3Part

ACCOUNT_ID = "123456789012"


class EmbeddedStore:
    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.host = host
        self.port = port
        self.persistence = Persistence(data_dir, lambda: self.backend)
        self.snapshot_path = self.persistence.snapshot_path
        # S3 on the same port, its objects kept beside the table (shoplocal/store/s3_store.py).
        self.s3 = S3Part(data_dir / "s3", ACCOUNT_ID, REGION, {ACCESS_KEY_ID: SECRET_ACCESS_KEY})
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

    def restore(self) -> RestoredState | None:
        """Take the data folder and load the saved data, if any. Raises DataInUseError, or
        SnapshotError if the saved data is unreadable."""
        return self.persistence.restore()

    def start(self) -> None:
        """Bind the port (OSError if taken) and serve in background threads."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        make_dynamodb_atomic(before_action=self._before_dynamodb_request, after_action=self.persistence.after_request)
        parse_input_paths_once()
        dispatch_without_reflection()
        read_the_clock_once_per_pass()
        # werkzeug logs every DynamoDB call; the API's own request log is the one a developer reads.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # The hot reads skip moto's dispatch (fast_lane); everything else reaches moto.
        application = fast_lane.wrap(self.s3.wrap(DomainDispatcherApplication(create_backend_app)), lambda: self.backend)
        # Keep-alive connections (werkzeug's server closes each one); binding raises on a taken port.
        self._server = wsgi_server.make_server(self.host, self.port, application)
        self.port = self._server.server_address[1]
        self.persistence.start()
        self._threads = [threading.Thread(target=self._server.serve_forever, name="dynamodb-server", daemon=True)]
        for thread in self._threads:
            thread.start()

    def save(self) -> None:
        """Write a snapshot of everything so far (the journal already holds it; this makes a
        restart read one file)."""
        self.persistence.checkpoint()

    def stop(self) -> None:
        """Stop serving; every answered write is already on disk."""
        if self._server is not None:
            self._server.shutdown()
        for thread in self._threads:
            thread.join()
        self.persistence.close()
