"""Lambda "containers": each function keeps warm copies of its handler module.

Lambda runs one request at a time per container and starts more containers for concurrent
requests. Here a container is a private copy of the handler module (its resolver, logger and
metrics are module globals that hold per-request state), so concurrent requests never share
one; the modules it imports (its own logic, the layer) are shared, as read-only code is.

A process runs at most `MAX_CONCURRENCY` invocations at once (more wait for a free slot, as
requests over a function's reserved concurrency would), and its AWS clients keep as many
connections: the functions share one DynamoDB client per process, and a pool smaller than the
number of concurrent handlers discards connections ("Connection pool is full") under load.
Deployed, a Lambda container runs one request at a time, so its default pool is plenty.

`make run` runs the containers in worker processes (`WorkerProcesses`), so the handlers use the
other core while the API server and the embedded store use this one, as Lambda runs functions
apart from DynamoDB.
"""

import contextlib
import ctypes
import functools
import importlib.util
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import traceback
import weakref
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from shoplocal.gateway.invoke import Handler, LambdaContext
from shoplocal.template import FunctionSpec

MAX_CONCURRENCY = 16  # invocations at once per process, and the connections its clients keep
_PR_SET_PDEATHSIG = 1  # prctl(2)

_environment_lock = threading.Lock()
_container_numbers = itertools.count(1)


def size_client_pools(connections: int = MAX_CONCURRENCY) -> None:
    """AWS clients created in this process from now on keep up to `connections` connections
    (a client's own Config still wins for the options it sets)."""
    import boto3
    from botocore.config import Config

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION._session.set_default_client_config(Config(max_pool_connections=connections))


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Apply a function's own variables while its module is imported (powertools reads the
    service name and log level then). Only values that differ between functions change."""
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def load_private_copy(spec: FunctionSpec) -> Handler:
    """A private copy of the function's handler module (a container of its own), freshly imported.
    It is named inside the function's package ("orders.handler__container3"), so its imports of
    the package's other modules are the shared ones."""
    module_name = f"{spec.module}__container{next(_container_numbers)}"
    module_spec = importlib.util.spec_from_file_location(module_name, spec.module_file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.handler} from {spec.code_dir}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, spec.function_name)
    return handler


@dataclass
class _Pool:
    idle: list[Handler] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Invocation:
    result: Any
    cold_start: bool


class Invoker(Protocol):
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation: ...


class Containers:
    """Warm handler copies per function, created on demand (a cold start) and reused after."""

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        environments: Mapping[str, Mapping[str, str]],
        max_concurrency: int = MAX_CONCURRENCY,
    ) -> None:
        self._specs = dict(specs)
        self._environments = {name: dict(env) for name, env in environments.items()}
        self._pools = {name: _Pool() for name in specs}
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def _take(self, logical_id: str) -> tuple[Handler, bool]:
        pool = self._pools[logical_id]
        with pool.lock:
            if pool.idle:
                return pool.idle.pop(), False
        spec = self._specs[logical_id]
        with _environment(self._environments.get(logical_id, {})):
            return load_private_copy(spec), True

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        with self._slots:
            handler, cold = self._take(logical_id)
            try:
                result = handler(event, LambdaContext(logical_id))
            finally:
                with self._pools[logical_id].lock:
                    self._pools[logical_id].idle.append(handler)
        return Invocation(result, cold)


class HandlerFailed(Exception):
    """A handler raised in a worker process; the message is its traceback there."""


def _serve_invocations(
    connection: Connection,
    server_pid: int,
    specs: Mapping[str, FunctionSpec],
    environments: Mapping[str, Mapping[str, str]],
    environment: Mapping[str, str],
    path: list[str],
) -> None:
    """A worker process: runs the invocations its connection brings, MAX_CONCURRENCY at once."""
    _die_with_parent(server_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops workers
    os.environ.clear()
    os.environ.update(environment)
    sys.path[:] = path
    size_client_pools()
    containers = Containers(specs, environments)
    sending = threading.Lock()

    def run(number: int, logical_id: str, event: dict[str, Any]) -> None:
        try:
            invocation = containers.invoke(logical_id, event)
            reply: tuple[Any, ...] = (number, True, invocation.result, invocation.cold_start)
        except Exception:
            reply = (number, False, traceback.format_exc().rstrip(), False)
        with sending:
            connection.send(reply)

    with ThreadPoolExecutor(MAX_CONCURRENCY, thread_name_prefix="invocation") as executor:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):  # the server has gone: so does this worker
                return
            if message is None:  # asked to stop: finish what runs, then exit
                return
            number, logical_id, event = message
            executor.submit(run, number, logical_id, event)


def _die_with_parent(server_pid: int) -> None:
    """A server killed outright (`kill -9`) takes its workers along at once, rather than leaving
    them to finish invocations against a store that is gone (Linux; elsewhere they exit when
    they find their connection closed)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:  # the server died before that took effect
        os._exit(0)


class _Worker:
    """One worker process and the invocations it has in flight."""

    def __init__(self, context: Any, arguments: tuple[Any, ...]) -> None:
        self.connection, child = multiprocessing.Pipe()
        self.process = context.Process(target=_serve_invocations, args=(child, *arguments), daemon=True)
        self.process.start()
        child.close()
        self.pending: dict[int, Future[tuple[Any, bool]]] = {}
        self.lock = threading.Lock()
        self.gone = threading.Event()  # its connection closed: the process exited or is exiting
        threading.Thread(target=self._receive, name=f"worker-{self.process.pid}", daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                number, ok, payload, cold = self.connection.recv()
            except (EOFError, OSError):
                break
            with self.lock:
                future = self.pending.pop(number)
            if ok:
                future.set_result((payload, cold))
            else:
                future.set_exception(HandlerFailed(payload))
        with self.lock:  # the process died: its invocations fail as a crashed Lambda's would
            self.gone.set()
            for future in self.pending.values():
                future.set_exception(HandlerFailed(f"worker process {self.process.pid} exited"))
            self.pending.clear()

    def stop(self) -> None:
        # Ask, rather than close the pipe: our receiving thread, blocked reading it, keeps the pipe
        # open, so the worker would never see its end and be killed after the timeout instead.
        with self.lock, contextlib.suppress(OSError):  # OSError: already gone
            self.connection.send(None)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class WorkerProcesses:
    """The same containers, in `count` worker processes; each invocation goes to the worker with
    the fewest in flight. The workers stop when this object is dropped (after a reload) or the
    server exits."""

    def __init__(self, specs: Mapping[str, FunctionSpec], environments: Mapping[str, Mapping[str, str]], count: int) -> None:
        own_environments = {name: dict(env) for name, env in environments.items()}
        arguments = (os.getpid(), dict(specs), own_environments, dict(os.environ), list(sys.path))
        self._start = functools.partial(_Worker, multiprocessing.get_context("spawn"), arguments)  # never fork threads
        self._workers = [self._start() for _ in range(count)]
        self._replacing = threading.Lock()
        self._numbers = itertools.count()
        self._finalizer = weakref.finalize(self, _stop_all, self._workers)

    def _least_busy_worker(self) -> _Worker:
        """The worker with the fewest invocations in flight; one that died (a handler that
        crashed its process) is replaced first, as Lambda replaces a crashed container."""
        with self._replacing:
            for position, worker in enumerate(self._workers):
                if worker.gone.is_set() or not worker.process.is_alive():
                    self._workers[position] = self._start()
            return min(self._workers, key=lambda candidate: len(candidate.pending))

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        number = next(self._numbers)
        future: Future[tuple[Any, bool]] = Future()
        while True:
            worker = self._least_busy_worker()
            with worker.lock:
                if worker.gone.is_set():
                    continue  # it exited since it was picked: pick again
                try:
                    worker.connection.send((number, logical_id, event))
                except OSError:  # exiting: the next pick replaces it
                    worker.gone.set()
                    continue
                worker.pending[number] = future
                break
        result, cold = future.result()
        return Invocation(result, cold)

    def stop(self) -> None:
        self._finalizer()


def _stop_all(workers: list[_Worker]) -> None:
    for worker in workers:
        worker.stop()


_worker_processes = 0


def run_in_worker_processes(count: int) -> None:
    """From now on, `containers_for` puts the containers in `count` worker processes (0: here)."""
    global _worker_processes
    _worker_processes = count


def containers_for(specs: Mapping[str, FunctionSpec], environments: Mapping[str, Mapping[str, str]]) -> Invoker:
    """In-process containers, or worker processes after `run_in_worker_processes`."""
    if _worker_processes:
        return WorkerProcesses(specs, environments, _worker_processes)
    return Containers(specs, environments)


def forget_modules_under(folders: list[Path]) -> list[str]:
    """Drop every imported module whose file lies in `folders`, so the next import reads the
    code afresh (the equivalent of new containers after a deployment). Returns their names."""
    roots = [folder.resolve() for folder in folders]
    stale = []
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None)
        if location and any(Path(location).resolve().is_relative_to(root) for root in roots):
            stale.append(name)
    for name in stale:
        sys.modules.pop(name, None)
    return stale
