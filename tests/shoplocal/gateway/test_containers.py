"""Handler containers: at most MAX_CONCURRENCY invocations at once per process (the size of its
clients' connection pools), in this process or in worker processes that use the other core."""

import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local_server import start_server
from shoplocal.gateway import containers
from shoplocal.gateway.containers import Containers, HandlerFailed, WorkerProcesses
from shoplocal.template import FunctionSpec

HANDLER = """
import os, threading, time

IMPORTED_WITH = os.environ.get("ONLY_HERE")  # a function's own variables apply while it is imported
running = 0
most = 0
lock = threading.Lock()


def handler(event, context):
    global running, most
    if event.get("fail"):
        raise ValueError("the handler failed on purpose")
    if event.get("crash"):
        os._exit(3)
    with lock:
        running += 1
        most = max(most, running)
    deadline = time.monotonic() + 10
    while event.get("wait_for") and not os.path.exists(event["wait_for"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    with lock:
        running -= 1
    return {"statusCode": 200, "body": str(most), "pid": os.getpid(), "variable": IMPORTED_WITH}
"""


@pytest.fixture
def spec(tmp_path: Path) -> FunctionSpec:
    (tmp_path / "probe_app.py").write_text(HANDLER, encoding="utf-8")
    return FunctionSpec("ProbeFunction", tmp_path, "probe_app.handler", {}, [])


def invoke_at_once(invoker: Any, count: int, event: dict[str, Any], release: Path) -> list[Any]:
    """`count` concurrent invocations, held until all that may run have started."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(invoker.invoke, "ProbeFunction", event) for _ in range(count)]
        threading.Timer(1.0, release.touch).start()  # lets the first ones pile up; no result depends on it
        return [future.result(timeout=60) for future in futures]


def test_a_process_runs_at_most_max_concurrency_invocations_at_once(spec: FunctionSpec, tmp_path: Path) -> None:
    local = Containers({"ProbeFunction": spec}, {}, max_concurrency=3)
    results = invoke_at_once(local, 8, {"wait_for": str(tmp_path / "go")}, tmp_path / "go")
    assert max(int(r.result["body"]) for r in results) <= 3
    assert sum(r.cold_start for r in results) <= 3  # at most one container per concurrent slot


def test_worker_processes_run_the_handlers_apart_and_report_their_failures(spec: FunctionSpec, tmp_path: Path) -> None:
    workers = WorkerProcesses({"ProbeFunction": spec}, {"ProbeFunction": {"ONLY_HERE": "yes"}}, count=2)
    try:
        results = invoke_at_once(workers, 2 * containers.MAX_CONCURRENCY + 4, {"wait_for": str(tmp_path / "go")}, tmp_path / "go")
        pids = {r.result["pid"] for r in results}
        assert len(pids) == 2  # both workers took invocations
        assert all(int(r.result["body"]) <= containers.MAX_CONCURRENCY for r in results)
        assert {r.result["variable"] for r in results} == {"yes"}  # the function's own environment
        with pytest.raises(HandlerFailed, match="the handler failed on purpose"):
            workers.invoke("ProbeFunction", {"fail": True})
        assert workers.invoke("ProbeFunction", {}).result["statusCode"] == 200  # and keeps serving
        with pytest.raises(HandlerFailed, match="exited"):
            workers.invoke("ProbeFunction", {"crash": True})
        for _ in range(4):  # a worker that crashed is replaced
            assert workers.invoke("ProbeFunction", {}).result["statusCode"] == 200
        processes = [worker.process for worker in workers._workers]
    finally:
        del workers
        gc.collect()
    for process in processes:  # dropping them (a reload) stopped the workers, which exited by themselves
        process.join(timeout=60)
        assert process.exitcode == 0


def test_clients_keep_as_many_connections_as_a_process_runs_invocations() -> None:
    import boto3
    from botocore.config import Config

    containers.size_client_pools()
    try:
        # As the functions create theirs: a Config of their own that does not set the pool.
        config: Any = boto3.client("dynamodb", config=Config(connect_timeout=2, read_timeout=5)).meta.config
        assert config.max_pool_connections == containers.MAX_CONCURRENCY
        assert config.read_timeout == 5
    finally:
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION._session.set_default_client_config(None)  # type: ignore[arg-type]


def test_no_connection_is_discarded_under_16_concurrent_clients(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda _: server.request("GET", "/api/products?limit=5").status, range(320)))
        assert statuses == [200] * 320
    finally:
        server.stop()
    assert "Connection pool is full" not in server.log()
