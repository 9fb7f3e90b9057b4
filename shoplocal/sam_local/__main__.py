"""`make sam-local`, `make sam-local-check-photo`, `make sam-local-image` and `make sam-local-test`.

python -m shoplocal.sam_local start [--sam-port 3001 --api-port 3000 --db-port 8000]
python -m shoplocal.sam_local check-photo --key products/<id>/<image>
python -m shoplocal.sam_local standin-image   # no image registry: AWS's base image from this Python
python -m shoplocal.sam_local test   # CI: Docker, a stand-in base image, SAM, the walkthrough
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType

from shoplocal.sam_local import standin_image
from shoplocal.sam_local.docker_engine import DockerEngine, DockerError, engine_for_ci, reachable_engine
from shoplocal.sam_local.session import Options, SamLocalSession, SessionError, say
from shoplocal.sam_local.walkthrough import Client, Walkthrough, WalkthroughError, compare
from shoplocal.store import local_store

EPILOG = """\
examples:
  make sam-local                                  # SAM on :3001, against `make run`'s store on :8000
  make sam-local SAM_PORT=3001 DB_PORT=8000       # the ports, as `make run` takes them
  make sam-local-check-photo KEY=products/12/0f3e...  # the photo checker, run by SAM for an upload
  make sam-local-image                            # offline: a stand-in for AWS's base image
  make sam-local-test                             # what CI runs (as root it installs and starts Docker)
"""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shoplocal.sam_local",
        description="`sam local start-api` (Docker) against the embedded store of `make run`.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("start", "serve the API through SAM until Ctrl-C (starts `make run` when no store runs on the port)"),
        ("test", "CI: the real sam local start-api, offline, and a walk through the API via SAM"),
        ("check-photo", "run the photo checker with SAM for an uploaded object (after `start`)"),
        ("standin-image", "build a stand-in for AWS's Python 3.12 base image from this Python (no registry needed)"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--sam-port", type=int, default=3001, help="SAM's port (default %(default)s)")
        command.add_argument("--api-port", type=int, default=local_store.DEFAULT_API_PORT, help="make run's API port")
        command.add_argument("--db-port", type=int, default=local_store.db_port(), help="the store's port")
        command.add_argument(
            "--host-address", help="where containers reach this machine (default: the Docker bridge's gateway address)"
        )
        command.add_argument("--log-level", default="WARNING", help="the functions' log level (default %(default)s)")
        command.add_argument(
            "--sam-args", default="", help="more options for sam local (e.g. --skip-pull-image to use the image Docker has)"
        )
        if name == "check-photo":
            command.add_argument("--key", required=True, help="the object's key in the images bucket (products/...)")
    return parser.parse_args(argv)


def _options(args: argparse.Namespace, **more: object) -> Options:
    return Options(
        sam_port=args.sam_port,
        api_port=args.api_port,
        db_port=args.db_port,
        architecture=standin_image.lambda_architecture(),
        log_level=args.log_level,
        host_address=args.host_address,
        sam_args=shlex.split(args.sam_args),
        **more,  # type: ignore[arg-type]
    )


def _docker() -> DockerEngine:
    engine = reachable_engine()
    if engine is None:
        raise DockerError(
            "sam local needs a running Docker daemon (docker info fails). Start Docker, or use `make run`, which needs none."
        )
    return engine


def _uses_standin(engine: DockerEngine) -> bool:
    """Whether Docker's base image is the stand-in: SAM must not try to pull AWS's over it."""
    tag = standin_image.image_tag(standin_image.lambda_architecture())
    name, value = standin_image.STANDIN_MARK
    return engine.image_environment(tag).get(name) == value


def start(args: argparse.Namespace) -> int:
    engine = _docker()
    standin = _uses_standin(engine)
    if standin:
        say("The base image is the stand-in built here: SAM will not pull AWS's")
    session = SamLocalSession(engine, _options(args, skip_pull_image=standin))
    try:
        session.start()
        say(f"SAM serves the API on {session.api_url}   (Ctrl-C to stop)")
        print(f"    env-vars file: {session.env_vars}")
        print("    photos: uploads are checked by make run's checker; SAM's: make sam-local-check-photo KEY=<key>")
        return session.wait()
    finally:
        session.close()


def check_photo(args: argparse.Namespace) -> int:
    """`sam local invoke ImageCheckFunction` with S3's event for an object of the images bucket,
    on the build and against the store `make sam-local` uses (which must be running)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from shoplocal.gateway.s3_events import object_created_event

    engine = _docker()
    session = SamLocalSession(engine, _options(args, skip_pull_image=_uses_standin(engine)))
    if not session.template.exists():
        raise SessionError("run `make sam-local` first: it builds the functions for SAM")
    try:
        size = session.store_s3().head_object(Bucket=local_store.IMAGES_BUCKET, Key=args.key)["ContentLength"]
    except (BotoCoreError, ClientError) as error:
        raise SessionError(f"no object {args.key} in the store at {session.store_url} ({error})") from error
    event = object_created_event(local_store.IMAGES_BUCKET, args.key, size, local_store.REGION)
    try:
        session.connect_store()  # a relay of its own, unless make sam-local's is running
        with tempfile.TemporaryDirectory() as folder:
            event_file = Path(folder) / "s3-event.json"
            event_file.write_text(json.dumps(event), encoding="utf-8")
            result = session.invoke("ImageCheckFunction", event_file)
    finally:
        session.close()
    sys.stderr.write(result.stderr.decode(errors="replace"))
    sys.stdout.write(result.stdout.decode(errors="replace"))
    return result.returncode


def build_standin(engine: DockerEngine) -> None:
    tag = standin_image.image_tag(standin_image.lambda_architecture())
    say(f"Building a stand-in for {tag} from this machine's Python {standin_image.PYTHON_VERSION} (no registry here)")
    standin_image.build(_installed_python(), tag, environment=engine.environment)


def test(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    engine: DockerEngine | None = None
    session: SamLocalSession | None = None
    work = Path(tempfile.mkdtemp(prefix="sam-local-test-"))
    log_path = work / "output.log"
    ok = False
    try:
        step = time.perf_counter()
        engine = engine_for_ci()
        timings["Docker (install if missing, start)"] = time.perf_counter() - step
        architecture = standin_image.lambda_architecture()
        tag = standin_image.image_tag(architecture)
        step = time.perf_counter()
        if engine.has_image(tag):
            say(f"Using the image {tag} already there")
        else:
            build_standin(engine)
        timings["stand-in base image"] = time.perf_counter() - step
        with log_path.open("wb") as log:
            session = SamLocalSession(engine, _options(args, skip_pull_image=True, data_dir=work / "store", log=log))
            session.start()
            timings.update(session.timings)
            sam, local = Client(session.api_url), Client(f"http://{local_store.HOST}:{args.api_port}")
            step = time.perf_counter()
            say("The same requests through SAM and through make run (first request, then the median of the next 5)")
            comparison = compare(sam, local)
            print(comparison.table(), flush=True)
            say("Through SAM: sign-up, sign-in, products, a staff product, an order, its replay, my-orders, a photo")

            def invoke(event_file: Path) -> tuple[int, str]:
                assert session is not None
                result = session.invoke("ImageCheckFunction", event_file)
                return result.returncode, result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")

            Walkthrough(sam, invoke).run()
            timings["requests"] = time.perf_counter() - step
            ok = True
    except (DockerError, SessionError, WalkthroughError, standin_image.StandInError) as error:
        print(f"make sam-local-test: {error}", file=sys.stderr)
    except Exception:  # anything else a step raised (a response without a field): fail, clean up
        traceback.print_exc()
    finally:
        step = time.perf_counter()
        if session is not None:
            session.close()
        timings["stopping SAM and the store"] = time.perf_counter() - step
        step = time.perf_counter()
        if engine is not None:
            engine.stop()
        timings["stopping Docker"] = time.perf_counter() - step
        if not ok and log_path.exists():
            print("---- the store's and SAM's output (last 60 lines) ----", file=sys.stderr)
            print("\n".join(log_path.read_text(errors="replace").splitlines()[-60:]), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    print("\n".join(f"    {name}: {seconds:.1f} s" for name, seconds in timings.items()))
    say(f"make sam-local-test {'passed' if ok else 'FAILED'} in {total:.0f} s")
    return 0 if ok else 1


def _installed_python() -> Path:
    """The Python this virtualenv was made from (the project's: 3.12): the stand-in copies an
    installed interpreter, not a virtualenv's."""
    return Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"


def _stop_on_signal(signal_number: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    os.environ["SAM_CLI_TELEMETRY"] = "0"
    # Ctrl-C and a plain kill both stop SAM, the relay and the store cleanly. A shell starts
    # background jobs with SIGINT ignored, and children inherit that: SAM could not be stopped
    # with Ctrl-C then, and left its containers running.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        if args.command == "start":
            return start(args)
        if args.command == "check-photo":
            return check_photo(args)
        if args.command == "standin-image":
            build_standin(_docker())
            return 0
        return test(args)
    except (DockerError, SessionError, standin_image.StandInError) as error:
        print(f"sam local: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
