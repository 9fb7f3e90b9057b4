"""A real headless Chromium for the tests, driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: no port, no websocket library, no driver binary).

`make test` installs Debian's `chromium` when it is missing. The browser resolves no host but
127.0.0.1, so a page that needs anything from the internet (a CDN) fails to render here."""

import contextlib
import fcntl
import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXECUTABLES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-pipe",
)
BASH = shutil.which("bash") or "/bin/bash"
# Generous: the suite runs on a busy 2-core machine beside another suite.
DEADLINE_SECONDS = 120.0


def executable() -> str:
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("no Chromium found: `make test` installs it (apt-get install chromium)")


class Page:
    """One tab: navigate, evaluate JavaScript, and the URLs it requested."""

    def __init__(self, browser: "Browser", session_id: str) -> None:
        self._browser = browser
        self._session_id = session_id

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._browser.send(method, session_id=self._session_id, **params)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, description: str) -> Any:
        """Evaluate `expression` until it is truthy, up to DEADLINE_SECONDS."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                log = self._browser.log.read_text(errors="replace")[-2000:]
                raise AssertionError(f"timed out waiting for {description}; errors: {self._browser.errors}\n{log}")
            time.sleep(0.2)

    @property
    def requested_urls(self) -> list[str]:
        return list(self._browser.requested_urls)


class Browser:
    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int, log: Path) -> None:
        self._process = process
        self._to_browser = to_browser
        self._from_browser = from_browser
        self._ids = itertools.count(1)
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.requested_urls: list[str] = []
        self.errors: list[str] = []
        self.log = log
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._dispatch(json.loads(message))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._lock:
                waiting = self._replies.get(message["id"])
            if waiting is not None:
                waiting.put(message)
        elif message.get("method") == "Network.requestWillBeSent":
            self.requested_urls.append(message["params"]["request"]["url"])
        elif message.get("method") in ("Runtime.exceptionThrown", "Network.loadingFailed"):
            self.errors.append(json.dumps(message["params"])[:500])

    def send(self, method: str, session_id: str | None = None, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        reply: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._replies[message_id] = reply
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session_id:
            message["sessionId"] = session_id
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        try:
            answer = reply.get(timeout=DEADLINE_SECONDS)
        except queue.Empty:
            raise AssertionError(f"Chromium did not answer {method}") from None
        finally:
            with self._lock:
                del self._replies[message_id]
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer["result"]
        return result

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        page.send("Network.enable")
        page.send("Runtime.enable")
        return page


def high_descriptor(fd: int) -> int:
    """A copy of `fd` numbered 10 or more (the original is closed)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


def stop_process_group(group: int) -> None:
    """Kill what is left of a process group and wait until it is gone (they write to the
    profile folder until then, so removing it earlier fails)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A fresh headless Chromium with its own profile, stopped afterwards."""
    to_browser_read, to_browser = os.pipe()
    from_browser, from_browser_write = os.pipe()
    # Above 9, so that moving them onto 3 and 4 below cannot overwrite one with the other.
    to_browser_read, from_browser_write = (high_descriptor(fd) for fd in (to_browser_read, from_browser_write))
    # ignore_cleanup_errors: a last guard only; the whole process group is gone before cleanup.
    profiles = tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True)
    with profiles as profile, open(Path(profile) / "stderr.log", "wb") as log:
        # The protocol pipe is the browser's fd 3 (it reads) and fd 4 (it writes); bash (unlike
        # dash) redirects descriptors above 9.
        redirect = f'exec 3<&{to_browser_read} 4>&{from_browser_write} {to_browser_read}<&- {from_browser_write}>&-; exec "$@"'
        process = subprocess.Popen(
            [BASH, "-c", redirect, "chromium", executable(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its helper processes too can be stopped together
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        browser = Browser(process, to_browser, from_browser, Path(log.name))
        try:
            yield browser
        finally:
            os.close(to_browser)
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
            stop_process_group(process.pid)  # helpers (zygote, renderer) outlive the main process
            browser.reader.join(timeout=30)  # the browser's end of the pipe closed with it
            os.close(from_browser)
