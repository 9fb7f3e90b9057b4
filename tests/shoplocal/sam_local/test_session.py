"""What `make sam-local` runs SAM with, and how it connects the containers to the store (the
whole session runs in `make sam-local-test`, which needs Docker)."""

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoplocal.sam_local import session as session_module
from shoplocal.sam_local.docker_engine import DockerEngine
from shoplocal.sam_local.session import Options, SamLocalSession, SessionError, sam_environment
from shoplocal.store import local_store


def test_sam_runs_with_the_stores_credentials_never_the_developers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_PROFILE": "production",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_SESSION_TOKEN": "token",
        "SAM_CLI_TELEMETRY": "1",
    }.items():
        monkeypatch.setenv(name, value)
    environment = sam_environment(DockerEngine(environment={"DOCKER_HOST": "unix:///run/other.sock"}))
    assert "AWS_PROFILE" not in environment
    assert "AWS_SESSION_TOKEN" not in environment
    assert environment["AWS_ACCESS_KEY_ID"] == local_store.ACCESS_KEY_ID
    assert environment["AWS_SECRET_ACCESS_KEY"] == local_store.SECRET_ACCESS_KEY
    assert environment["AWS_DEFAULT_REGION"] == local_store.REGION
    assert environment["SAM_CLI_TELEMETRY"] == "0"
    assert environment["DOCKER_HOST"] == "unix:///run/other.sock"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def work_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(session_module, "WORK_DIR", tmp_path)
    return tmp_path


@pytest.fixture
def store() -> Iterator[socket.socket]:
    """Something listening on the loopback, where the store would be."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def session_for(db_port: int, host_address: str) -> SamLocalSession:
    options = Options(
        sam_port=free_port(), api_port=free_port(), db_port=db_port, architecture="x86_64", host_address=host_address
    )
    return SamLocalSession(DockerEngine(), options)


def test_the_containers_reach_the_store_through_a_relay_and_the_file_names_that_address(
    work_dir: Path, store: socket.socket
) -> None:
    """Here the bridge's address is stood in for by 127.0.0.2 (the loopback, another address)."""
    port = store.getsockname()[1]
    session = session_for(port, "127.0.0.2")
    try:
        session.connect_store()
        assert session.relay is not None
        with socket.create_connection(("127.0.0.2", port), timeout=5):
            pass
        variables = json.loads((work_dir / "env-vars.json").read_text())
        assert {values["AWS_ENDPOINT_URL"] for values in variables.values()} == {f"http://127.0.0.2:{port}"}
        assert variables["CatalogAdminFunction"]["IMAGES_BASE_URL"] == f"http://127.0.0.1:{port}/shop-local-images"
    finally:
        session.close()


def test_a_store_listening_on_that_address_already_needs_no_relay(work_dir: Path) -> None:
    with socket.create_server(("127.0.0.2", 0)) as everywhere:
        port = everywhere.getsockname()[1]
        session = session_for(port, "127.0.0.2")
        session.connect_store()
        assert session.relay is None
        session.close()


def test_an_address_that_cannot_be_listened_on_is_a_clear_error(work_dir: Path) -> None:
    session = session_for(free_port(), "192.0.2.1")  # TEST-NET-1: no interface of this machine
    with pytest.raises(SessionError, match=r"cannot listen on 192\.0\.2\.1"):
        session.connect_store()
