"""One `sam local start-api` session against the embedded store, and everything it needs: the
store (a running `make run`'s, or one started here), `sam build` for this machine's
architecture, the env-vars file, the relay from the Docker bridge to the store, and SAM itself
with warm containers. Everything started here is stopped by `close()`, in reverse order.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from shoplocal.sam_local.docker_engine import DockerEngine
from shoplocal.sam_local.environment import function_variables, write_env_vars
from shoplocal.sam_local.relay import Relay
from shoplocal.store import local_store
from shoplocal.template import PROJECT_ROOT

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SAM = PROJECT_ROOT / ".venv-sam" / "bin" / "sam"
PYTHON_BIN = Path(sys.executable).parent  # the project's virtualenv: its python3.12 for sam build
WORK_DIR = PROJECT_ROOT / ".aws-sam" / "sam-local"  # apart from `make build`'s arm64 build
STORE_START_SECONDS = 300  # a first start writes the demo data
SAM_START_SECONDS = 120


class SessionError(Exception):
    """A step of the session failed; the message says which and why."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def wait_until(ready: Callable[[], bool], seconds: float, what: str, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll `ready` until it holds; fail after `seconds` or as soon as `alive` stops holding."""
    deadline = time.monotonic() + seconds
    while not ready():
        if not alive():
            raise SessionError(f"{what}: the process exited")
        if time.monotonic() > deadline:
            raise SessionError(f"{what}: not ready after {seconds:.0f} s")
        time.sleep(0.25)


def sam_environment(engine: DockerEngine) -> dict[str, str]:
    """What SAM runs with: the daemon, no telemetry, and the store's dummy credentials and region
    (SAM hands the containers its own credentials; a developer's real ones have no business
    here, and the store checks upload forms signed with these)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(engine.environment)
    environment.update(
        {
            "SAM_CLI_TELEMETRY": "0",
            "PATH": f"{PYTHON_BIN}{os.pathsep}{environment.get('PATH', '')}",
            "AWS_ACCESS_KEY_ID": local_store.ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": local_store.SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": local_store.REGION,
            "AWS_REGION": local_store.REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
    )
    return environment


def stop_process(process: subprocess.Popen[bytes] | None, name: str, first: int = signal.SIGINT, seconds: float = 60) -> None:
    """Ask `process` to stop (`first`: Ctrl-C, so SAM removes its containers), then make it."""
    if process is None or process.poll() is not None:
        return
    say(f"Stopping {name}")
    try:
        os.killpg(process.pid, first)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@dataclass
class Options:
    sam_port: int
    api_port: int
    db_port: int
    architecture: str
    log_level: str = "WARNING"
    # Where containers reach this machine (the Docker bridge's gateway address when None).
    host_address: str | None = None
    skip_pull_image: bool = False
    # A store of our own in this folder (CI), instead of a running `make run`'s.
    data_dir: Path | None = None
    # Where the store's and SAM's output goes (None: this terminal).
    log: IO[bytes] | None = None
    sam_args: list[str] = field(default_factory=list)


class SamLocalSession:
    def __init__(self, engine: DockerEngine, options: Options) -> None:
        self.engine = engine
        self.options = options
        self.environment = sam_environment(engine)
        self.build_dir = WORK_DIR / "build"
        self.template = self.build_dir / "template.yaml"
        self.env_vars = WORK_DIR / "env-vars.json"
        self.store: subprocess.Popen[bytes] | None = None
        self.relay: Relay | None = None
        self.sam: subprocess.Popen[bytes] | None = None
        self.host_address = ""
        self.timings: dict[str, float] = {}

    # --- steps ---------------------------------------------------------------------------------

    def _timed(self, name: str, step: Callable[[], None]) -> None:
        started = time.perf_counter()
        step()
        self.timings[name] = time.perf_counter() - started

    @property
    def store_url(self) -> str:
        return local_store.endpoint_url(self.options.db_port)

    @property
    def endpoint_url(self) -> str:
        """The store as the containers reach it: an address, not a name (the S3 client of the
        functions uses virtual-host URLs for a name: `<bucket>.<name>` resolves nowhere)."""
        return f"http://{self.host_address}:{self.options.db_port}"

    def store_s3(self) -> "S3Client":
        """A client of the store's S3, with its dummy credentials."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.store_url,
            region_name=local_store.REGION,
            aws_access_key_id=local_store.ACCESS_KEY_ID,
            aws_secret_access_key=local_store.SECRET_ACCESS_KEY,
        )

    @property
    def api_url(self) -> str:
        return f"http://{local_store.HOST}:{self.options.sam_port}"

    def ensure_store(self) -> None:
        """The store of a running `make run`, or (none on the port, or a folder of our own) one
        started here, with its API, as `make run` does."""
        if self.options.data_dir is None and local_store.is_listening(self.store_url):
            say(f"Using the store already running at {self.store_url}")
            return
        if local_store.is_listening(self.store_url):
            raise SessionError(f"port {self.options.db_port} is taken: choose another with DB_PORT=...")
        say(f"Starting `make run` (API on port {self.options.api_port}, store on {self.options.db_port})")
        command = [sys.executable, "-m", "shoplocal.run", "--api-port", str(self.options.api_port)]
        command += ["--db-port", str(self.options.db_port), "--no-reload"]
        if self.options.data_dir is not None:
            command += ["--data-dir", str(self.options.data_dir)]
        output = self.options.log or None
        self.store = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=output, stderr=output, start_new_session=True)
        store = self.store
        wait_until(
            lambda: (
                local_store.is_listening(self.store_url) and local_store.is_listening(f"http://127.0.0.1:{self.options.api_port}")
            ),
            STORE_START_SECONDS,
            "make run",
            alive=lambda: store.poll() is None,
        )

    def build(self) -> None:
        say(f"sam build for {self.options.architecture} into {self.build_dir.relative_to(PROJECT_ROOT)}")
        command = [str(SAM), "build", "--build-dir", str(self.build_dir), "--cache-dir", str(WORK_DIR / "cache"), "--cached"]
        command += ["--parameter-overrides", f"Architecture={self.options.architecture}"]
        environment = {**self.environment, "LAMBDA_ARCHITECTURE": self.options.architecture}
        output = self.options.log or None
        result = subprocess.run(
            command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=output, timeout=1800, check=False
        )
        if result.returncode != 0:
            raise SessionError(f"sam build failed (exit {result.returncode})")

    def connect_store(self) -> None:
        """Find where the containers reach this machine and relay that address to the store."""
        self.host_address = self.options.host_address or self.engine.bridge_gateway()
        try:
            self.relay = Relay(self.host_address, self.options.db_port, local_store.HOST, self.options.db_port)
        except OSError as error:
            # Taken: the store listens on every interface itself; anything else cannot work.
            if not local_store.is_listening(self.endpoint_url):
                raise SessionError(f"cannot listen on {self.host_address}:{self.options.db_port}: {error.strerror}") from error
        images = f"{self.store_url}/{local_store.IMAGES_BUCKET}"
        write_env_vars(self.env_vars, function_variables(self.endpoint_url, images, self.options.log_level))

    def start_api(self) -> None:
        say(f"sam local start-api on {self.api_url} (warm containers; the store at {self.endpoint_url})")
        command = [str(SAM), "local", "start-api", "--template", str(self.template), "--host", local_store.HOST]
        command += ["--port", str(self.options.sam_port), "--warm-containers", "LAZY", "--env-vars", str(self.env_vars)]
        command += ["--parameter-overrides", f"Architecture={self.options.architecture}"]
        if self.options.skip_pull_image:
            command.append("--skip-pull-image")
        command += self.options.sam_args
        output = self.options.log or None
        self.sam = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.environment, stdout=output, stderr=output, start_new_session=True
        )
        sam = self.sam
        wait_until(
            lambda: local_store.is_listening(self.api_url),
            SAM_START_SECONDS,
            "sam local start-api",
            alive=lambda: sam.poll() is None,
        )

    def start(self) -> None:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self._timed("store", self.ensure_store)
        self._timed("relay and env-vars", self.connect_store)
        self._timed("sam build", self.build)
        self._timed("start-api", self.start_api)

    def invoke(self, function: str, event_file: Path) -> subprocess.CompletedProcess[bytes]:
        """`sam local invoke` of one function of the build with an event, as its own container."""
        command = [str(SAM), "local", "invoke", function, "--template", str(self.template), "--event", str(event_file)]
        command += ["--env-vars", str(self.env_vars), "--parameter-overrides", f"Architecture={self.options.architecture}"]
        if self.options.skip_pull_image:
            command.append("--skip-pull-image")
        command += self.options.sam_args
        return subprocess.run(command, cwd=PROJECT_ROOT, env=self.environment, capture_output=True, timeout=300, check=False)

    def wait(self) -> int:
        """Until SAM stops (or Ctrl-C); SAM's exit status."""
        assert self.sam is not None
        try:
            return self.sam.wait()
        except KeyboardInterrupt:
            return 0

    def close(self) -> None:
        stop_process(self.sam, "sam local start-api")
        if self.relay is not None:
            self.relay.close()
            self.relay = None
        stop_process(self.store, "the store started for this session", first=signal.SIGTERM)
