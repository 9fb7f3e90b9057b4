"""Starting `python -m shoplocal.run` (what `make run` starts) on free ports, and talking to it
over real HTTP, for the end-to-end tests."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplocal.template import PROJECT_ROOT

READY_LINE = "Started in"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LocalServer:
    process: subprocess.Popen[bytes]
    api_port: int
    db_port: int
    data_dir: Path
    log_path: Path

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def db_url(self) -> str:
        return f"http://127.0.0.1:{self.db_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
        request = urllib.request.Request(self.api_url + path, data=data, method=method, headers=all_headers)  # noqa: S310 - our own http URL
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def sign_in(self, username: str, password: str) -> dict[str, str]:
        reply = self.request("POST", "/api/auth", {"username": username, "password": password})
        assert reply.status == 200, reply.body
        return {"Authorization": f"Bearer {reply.json()['access']}"}

    def stop(self, how: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(how)
        return self.process.wait(timeout=30)


def start_server(
    data_dir: Path,
    *extra: str,
    api_port: int | None = None,
    db_port: int | None = None,
    environment: dict[str, str] | None = None,
    wait: bool = True,
) -> LocalServer:
    """The server, started (`wait`: once it says it is up)."""
    api_port, db_port = api_port or free_port(), db_port or free_port()
    log_path = data_dir.parent / f"{data_dir.name}-server-{api_port}.log"
    command = [sys.executable, "-m", "shoplocal.run", "--api-port", str(api_port), "--db-port", str(db_port)]
    command += ["--data-dir", str(data_dir), "--no-reload", *extra]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(environment or {})}
        )
    server = LocalServer(process, api_port, db_port, data_dir, log_path)
    deadline = time.monotonic() + 300  # a first start on a machine loaded by other work takes over a minute
    while wait and READY_LINE not in server.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the local server did not start:\n{server.log()}")
        time.sleep(0.05)
    return server


def shopctl(*args: str, db_port: int, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The admin CLI as a user runs it, finding the local store through DB_PORT."""
    environment = {**os.environ, "DB_PORT": str(db_port)}
    command = [sys.executable, "-m", "shopctl.cli", *args]
    return subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
