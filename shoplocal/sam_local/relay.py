"""A TCP relay from the Docker bridge's address on this host to the embedded store on the
loopback, so that SAM's containers reach a `make run` that listens on 127.0.0.1 only.

Listening on the bridge's address (not on every interface) keeps the store out of reach of the
network: only this host and its containers can connect. The relay copies bytes both ways and
understands nothing of them, so signatures over the Host header still hold.
"""

import selectors
import socket
import threading
from contextlib import suppress

BUFFER_BYTES = 64 * 1024


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy `source` to `target` until `source` ends, then end `target`'s writing side."""
    with suppress(OSError):
        while True:
            data = source.recv(BUFFER_BYTES)
            if not data:
                break
            target.sendall(data)
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


class Relay:
    """Accepts on (`listen_host`, `listen_port`) and connects each client to (`target_host`,
    `target_port`), two threads a connection. `close()` stops accepting and ends every pair."""

    def __init__(self, listen_host: str, listen_port: int, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._server = socket.create_server((listen_host, listen_port), reuse_port=False)
        self.address = self._server.getsockname()[:2]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="store-relay", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._server, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.2):
                    continue
                try:
                    client, _ = self._server.accept()
                except OSError:
                    continue
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for connection in list(self._open):
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
