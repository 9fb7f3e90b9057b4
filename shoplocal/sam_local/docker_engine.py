"""The Docker daemon `sam local` talks to: the one already running (a developer's Docker), or, for
CI on a machine without one, Debian's `docker.io` installed and a daemon of our own started with
all its state in a temporary folder, and removed again afterwards.

Our own daemon runs with `--iptables=false --ip-masq=false`: containers get no route beyond this
host (no NAT, no rules added to the host's firewall). It keeps the default bridge, `docker0`:
SAM publishes each container's runtime API port, which needs it, and the containers reach the
embedded store through the bridge's address on this host.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BRIDGE = "docker0"
START_TIMEOUT_SECONDS = 90


class DockerError(Exception):
    """No Docker daemon can be had here, or the daemon refused a request."""


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


@dataclass
class DockerEngine:
    """A reachable daemon (`environment` holds the DOCKER_HOST to reach it) and what we started."""

    environment: dict[str, str] = field(default_factory=dict)
    daemon: subprocess.Popen[bytes] | None = None
    state_dir: Path | None = None
    made_bridge: bool = False

    def docker(self, *args: str, timeout: float = 120, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run the docker CLI against this daemon."""
        client = shutil.which("docker")
        if client is None:
            raise DockerError("the docker command is not installed")
        return subprocess.run(
            [client, *args],
            env={**os.environ, **self.environment},
            input=input_bytes,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def responds(self) -> bool:
        try:
            return self.docker("version", "--format", "{{.Server.Version}}", timeout=20).returncode == 0
        except (DockerError, subprocess.TimeoutExpired):
            return False

    def has_image(self, tag: str) -> bool:
        return self.docker("image", "inspect", tag, timeout=30).returncode == 0

    def image_environment(self, tag: str) -> dict[str, str]:
        """The variables an image sets (its ENV lines); {} for an image Docker does not have."""
        result = self.docker("image", "inspect", "--format", "{{json .Config.Env}}", tag, timeout=30)
        if result.returncode != 0:
            return {}
        pairs = json.loads(result.stdout) or []
        return dict(pair.partition("=")[::2] for pair in pairs)

    def bridge_gateway(self) -> str:
        """The host's address on the default bridge: where containers reach this machine."""
        result = self.docker("network", "inspect", "bridge", timeout=30)
        if result.returncode != 0:
            raise DockerError(f"docker network inspect bridge failed: {result.stderr.decode().strip()}")
        (network,) = json.loads(result.stdout)
        for config in network.get("IPAM", {}).get("Config") or []:
            if config.get("Gateway"):
                return str(config["Gateway"])
        # Docker 20.10 names no gateway for the default bridge: it is the bridge's own address.
        interface = network.get("Options", {}).get("com.docker.network.bridge.name", BRIDGE)
        command = ["ip", "-4", "-o", "addr", "show", "dev", interface]
        shown = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        for word in shown.stdout.split():
            if "/" in word and word.split("/")[0].count(".") == 3:
                return word.split("/")[0]
        raise DockerError(f"the default bridge network ({interface}) has no address on this machine")

    def stop(self) -> None:
        """Stop the daemon we started (its containers with it), delete its state and the bridge it
        made. A daemon that was already running is left alone."""
        if self.daemon is None:
            return
        _say("Stopping the Docker daemon started for this run")
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait(timeout=30)
        self.daemon = None
        if self.made_bridge and Path(f"/sys/class/net/{BRIDGE}").exists():
            subprocess.run(["ip", "link", "delete", BRIDGE], check=False, timeout=30)
        if self.state_dir is not None:
            started = time.monotonic()
            _unmount_under(self.state_dir)
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None
            _say(f"Removed the daemon's images and state in {time.monotonic() - started:.1f} s")


def _unmount_under(folder: Path) -> None:
    """Anything a killed daemon left mounted under `folder` (its overlay and shm mounts)."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    inside = [line.split()[1] for line in mounts if line.split()[1].startswith(str(folder))]
    for mount_point in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False, timeout=30)


def install_docker() -> None:
    """Debian's docker.io, when the daemon is missing and this is root on a Debian-like system."""
    if shutil.which("dockerd"):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DockerError(
            "no Docker daemon is running and dockerd is not installed: install Docker "
            "(Debian/Ubuntu: sudo apt-get install docker.io) and start it, or run this as root to have it done"
        )
    _say("Installing Debian's docker.io (apt-get)")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"]):
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise DockerError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def start_own_daemon(engine: DockerEngine, wait: Callable[[float], None] = time.sleep) -> None:
    """A daemon of our own, its socket and all its state in a new temporary folder."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise DockerError("dockerd is not installed")
    state = Path(tempfile.mkdtemp(prefix="shop-docker-"))
    socket = state / "docker.sock"
    engine.state_dir = state
    engine.made_bridge = not Path(f"/sys/class/net/{BRIDGE}").exists()
    engine.environment["DOCKER_HOST"] = f"unix://{socket}"
    command = [
        dockerd,
        "--iptables=false",
        "--ip-masq=false",
        f"--data-root={state / 'data'}",
        f"--exec-root={state / 'exec'}",
        f"--pidfile={state / 'dockerd.pid'}",
        f"--host=unix://{socket}",
    ]
    _say("Starting a Docker daemon for this run (--iptables=false --ip-masq=false)")
    log = (state / "dockerd.log").open("wb")
    engine.daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if engine.daemon.poll() is not None:
            tail = (state / "dockerd.log").read_text(errors="replace")[-3000:]
            engine.daemon = None
            engine.stop()
            raise DockerError(f"dockerd exited at start:\n{tail}")
        if engine.responds():
            return
        wait(0.5)
    engine.stop()
    raise DockerError(f"dockerd did not answer within {START_TIMEOUT_SECONDS} s")


def reachable_engine() -> DockerEngine | None:
    """The daemon the docker CLI reaches as configured (DOCKER_HOST, its context), if any."""
    engine = DockerEngine()
    return engine if shutil.which("docker") and engine.responds() else None


def engine_for_ci() -> DockerEngine:
    """A running daemon: the one already there, else Docker installed (as root) and ours started."""
    engine = reachable_engine()
    if engine is not None:
        _say("Using the Docker daemon already running")
        return engine
    install_docker()
    engine = DockerEngine()
    start_own_daemon(engine)
    return engine
