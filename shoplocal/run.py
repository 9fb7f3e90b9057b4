"""`make run`: the whole API on this machine, on the real handler code, with demo data.

Starts the embedded DynamoDB (loading the last snapshot, or creating the table from
`template.yaml` and the demo data on the first start), then the local API Gateway, and reloads
the code when it changes. Ctrl-C stops both and saves the store. With `--django-db` the first
start imports the Django app's data instead of the demo data (`shopctl import-django`), so a
team sees its own shop on this stack. With `--table` it serves the API from a deployed stack's
table instead, through your AWS credentials.
"""

import argparse
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from shoplocal.store import local_store
from shoplocal.template import TEMPLATE_PATH, put_code_on_path

if TYPE_CHECKING:
    from shopctl.django_plan import ImportPlan
    from shoplocal.store.embedded_store import EmbeddedStore
    from shoplocal.store.item_stream import ItemStream

log = logging.getLogger("shoplocal")
# Webhooks retried within two minutes and endpoints disabled after ten, so a developer sees the
# whole cycle (deployed: 5 s to 10 h over 27.6 hours, and 5 days). --parameter-overrides wins.
LOCAL_PARAMETERS = {"WebhookRetrySchedule": "2,4,8,16,32,64", "WebhookDisableAfterSeconds": "600"}
SIGNING_KEY_FILE = "jwt-signing-key"
SIGNING_KEY_VERSION_FILE = "jwt-signing-key.version"

EPILOG = """\
environment:
  API_PORT, DB_PORT     default ports (3000, 8000), as the options
  SHOP_DATA_DIR         where the store is kept (default .local-data/)
  LOG_LEVEL             the functions' log level (default WARNING: one line per request)

examples:
  make run                          # or: .venv/bin/python -m shoplocal.run
  make run API_PORT=3001 DB_PORT=8001
  make reset                        # start again from fresh demo data
  make run DJANGO_DB=db.sqlite3     # the Django app's data instead (or a dumpdata JSON file)
  aws dynamodb scan --table-name shop-local --endpoint-url http://127.0.0.1:8000
  AWS_PROFILE=dev .venv/bin/python -m shoplocal.run --table shop-api-dev-ShopTable-XYZ \\
      --secret arn:aws:secretsmanager:...   # the API on a deployed stack's table
"""


class StartError(Exception):
    """Something outside the code stops the start (a port taken, an unreadable snapshot)."""


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m shoplocal.run",
        description="Serve the shop API locally: the real handlers behind a local API Gateway, "
        "on an embedded DynamoDB that keeps its data between runs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT") or local_store.DEFAULT_API_PORT))
    parser.add_argument("--db-port", type=int, default=local_store.db_port(), help="the embedded DynamoDB's port")
    parser.add_argument("--host", default=local_store.HOST, help="address to listen on (default %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=local_store.data_dir(), help="where the store is kept")
    parser.add_argument("--reset", action="store_true", help="forget the stored data and start from fresh demo data")
    parser.add_argument(
        "--django-db",
        type=Path,
        metavar="FILE",
        help="start from the Django app's data instead of the demo data: its db.sqlite3, or the output of "
        "`manage.py dumpdata auth.user assignment_orders` (imported at the first start, kept afterwards)",
    )
    parser.add_argument("--no-reload", dest="reload", action="store_false", help="do not reload code when it changes")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL") or "WARNING", help="the functions' log level")
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="processes that run the handlers, beside the API and the store (default %(default)s; 0: in this process)",
    )
    parser.add_argument(
        "--config-env",
        default="default",
        help="take template parameters (CORS origins, ...) from this environment of samconfig.toml, "
        "as `sam deploy --config-env` does (default: %(default)s, the development stack)",
    )
    parser.add_argument(
        "--parameter-overrides",
        default="",
        metavar="'NAME=VALUE ...'",
        help="template parameters on top of samconfig.toml's, e.g. 'AllowedOrigins=http://localhost:3000,http://localhost:8080'",
    )
    deployed = parser.add_argument_group("a deployed stack's data instead of the embedded store")
    deployed.add_argument("--table", help="the stack's TableName output (uses your AWS credentials and region)")
    deployed.add_argument("--secret", help="the stack's JwtSecretArn output (required with --table)")
    args = parser.parse_args(argv)
    if bool(args.table) != bool(args.secret):
        parser.error("--table and --secret go together")
    if args.table and args.django_db:
        parser.error(
            "--django-db starts the local store from the Django data; import into a deployed table with "
            "`shopctl --table <TableName> import-django FILE`"
        )
    return args


def _signing_key(data_dir: Path) -> str:
    """The local JWT signing key, kept with the local data (so tokens survive a restart)."""
    path = data_dir / SIGNING_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _signing_key_version(data_dir: Path) -> str:
    """The local secret's version id, kept beside the key: tokens name it (`kid`), so a secret
    re-created with a new version at each start would sign everyone out."""
    path = data_dir / SIGNING_KEY_VERSION_FILE
    if not path.exists():
        path.write_text(str(uuid.uuid4()), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def _create_table() -> None:
    from shop_common.dynamo import client
    from shoplocal.template import load_template, table_definition

    client().create_table(TableName=local_store.TABLE_NAME, **table_definition())
    ttl = load_template()["Resources"]["ShopTable"]["Properties"].get("TimeToLiveSpecification")
    if ttl:
        client().update_time_to_live(TableName=local_store.TABLE_NAME, TimeToLiveSpecification=ttl)


@dataclass
class StoreState:
    store: "EmbeddedStore"
    description: str
    django_source: Path | None = None  # the users are the Django app's, not the demo users


def _read_django_data(path: Path) -> "ImportPlan":
    """The Django app's data, read and checked before anything starts."""
    from shopctl.django_import import read_plan
    from shopctl.django_source import DjangoDataError

    try:
        plan = read_plan(path)
    except DjangoDataError as error:
        raise StartError(str(error)) from error
    if plan.rejected:
        raise StartError(
            "\n".join([f"{path.name}: {problem}" for problem in plan.rejected] + ["these rows cannot be stored in this shop"])
        )
    return plan


def _import_django_data(plan: "ImportPlan", path: Path) -> str:
    """Import the plan into the local table (all of it, the rest of an interrupted import, or
    nothing when it is there already); what was done, for the banner."""
    from shopctl.django_import import TableState, check_import, finish_import, table_state, write_import
    from shopctl.progress import ProgressBar

    state, _ = table_state(plan.fingerprint)
    if state is TableState.IMPORTED:
        return f"the data of {path.name}, imported before"
    if state is TableState.OTHER:
        raise StartError(
            f"the local data already holds other products, users or orders (the demo shop?), so {path.name} was not "
            f"imported: `make reset DJANGO_DB={path}` starts from it (this deletes the local data)"
        )
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    bar = ProgressBar(f"importing {path.name}", len(plan.accounts) + len(plan.products) + len(plan.orders))
    write_import(plan, path.name, resume=state is TableState.INTERRUPTED, on_progress=bar.advance)
    bar.finish()
    differences = [check for check in check_import(plan) if not check.ok]
    if differences:
        found = ", ".join(f"{check.what}: {check.found} (the file: {check.expected})" for check in differences)
        raise StartError(f"the import of {path.name} does not check out: {found}; start again to finish it")
    finish_import(plan)
    return f"imported {plan.describe()} from {path.name}"


def _start_store(args: argparse.Namespace, plan: "ImportPlan | None" = None) -> StoreState:
    """The embedded store, serving, with the table, the secret and (first start) the demo data."""
    import boto3

    from shoplocal.store.embedded_store import EmbeddedStore
    from shoplocal.store.persistence import DataInUseError
    from shoplocal.store.snapshots import SnapshotError

    if args.reset:
        shutil.rmtree(args.data_dir, ignore_errors=True)
    store = EmbeddedStore(args.host, args.db_port, args.data_dir)
    try:
        restored = store.restore()
    except SnapshotError as error:
        raise StartError(f"{error}\nStart from fresh demo data with `make reset` (this deletes the local data).") from error
    except DataInUseError as error:
        # `make run` takes the folder from the environment (it passes no --data-dir), and a second
        # server needs ports of its own too.
        raise StartError(
            f"{error}: stop it (Ctrl-C where it runs), or start this one on data and ports of its own, e.g.\n"
            f"  SHOP_DATA_DIR={args.data_dir}-2 make run API_PORT={args.api_port + 1} DB_PORT={args.db_port + 1}"
        ) from error
    try:
        store.start()
    except OSError as error:
        raise StartError(f"cannot serve DynamoDB on {args.host}:{args.db_port} ({error.strerror}); try DB_PORT=8001") from error
    local_store.use_local_store(f"http://{local_store.HOST}:{store.port}")
    key = _signing_key(args.data_dir)
    boto3.client("secretsmanager").create_secret(
        Name=local_store.SECRET_NAME, SecretString=key, ClientRequestToken=_signing_key_version(args.data_dir)
    )
    # With the photos kept from earlier runs; served to browsers as CloudFront serves the bucket.
    store.s3.create_bucket(local_store.IMAGES_BUCKET, served=True)
    if restored is None:
        _create_table()
    if plan is not None:
        try:
            description = _import_django_data(plan, args.django_db)
        except StartError:
            store.stop()
            raise
        store.save()
        restored_note = f"restored {restored.items} items; " if restored is not None else "created the table; "
        return StoreState(store, restored_note + description, args.django_db)
    if restored is not None:
        return StoreState(store, f"restored {restored.items} items in {restored.seconds:.2f} s")
    from shopctl.demo import seed_demo

    seed_demo()
    store.save()
    return StoreState(store, "created the table and the demo data")


def _start_integration() -> "tuple[ItemStream, dict[str, str]]":
    """The table's stream (from the store's writes), and the template's queues, bus and rules in
    the store; what `Ref` gives for each."""
    from shoplocal.gateway.event_sources import create_integration_resources
    from shoplocal.store.item_stream import ItemStream
    from shoplocal.store.moto_atomic import observe_requests
    from shoplocal.template import load_template

    stream = ItemStream(local_store.TABLE_NAME, region=local_store.REGION)
    observe_requests(stream)
    return stream, create_integration_resources(load_template(TEMPLATE_PATH), local_store.RESOURCE_PREFIX)


def _start_event_sources(gateway: Any, stream: "ItemStream | None", integration: dict[str, str]) -> list[Any]:
    """A poller per event source mapping of the template: the stream's, the queues'."""
    from shoplocal.gateway.event_sources import QueuePoller, StreamPoller, event_source_mappings
    from shoplocal.template import load_template

    pollers: list[Any] = []
    for mapping in event_source_mappings(load_template(TEMPLATE_PATH)):
        if mapping.kind == "stream" and stream is not None:
            pollers.append(StreamPoller(gateway.containers, mapping, stream))
        elif mapping.kind == "queue" and mapping.source in integration:
            url, arn = integration[mapping.source], integration[f"{mapping.source}.Arn"]
            pollers.append(QueuePoller(gateway.containers, mapping, url, arn, local_store.REGION))
    for poller in pollers:
        poller.start()
    return pollers


def _banner(api_url: str, routes: int, state: StoreState | None, args: argparse.Namespace, seconds: float) -> str:
    from shopctl.demo import DEMO_USERS

    lines = [f"Shop API:   {api_url}   ({routes} routes from template.yaml)"]
    if state is None:
        lines.append(f"DynamoDB:   table {args.table} in AWS (your credentials)")
    else:
        reset_option = f" DJANGO_DB={args.django_db}" if state.django_source else ""
        fresh = f"the data of {state.django_source.name} again" if state.django_source else "fresh demo data"
        lines += [
            f"DynamoDB:   {state.store.url}   (table {local_store.TABLE_NAME}; any DynamoDB client with --endpoint-url)",
            f"Data:       {args.data_dir}   (saved as it changes; `make reset{reset_option}` starts from {fresh})",
            f"Users:      those of {state.django_source.name}, with their passwords from the Django app"
            if state.django_source
            else "Demo users: " + ", ".join(f"{u.username} / {u.password}{' (staff)' if u.is_staff else ''}" for u in DEMO_USERS),
        ]
    lines.append(f"Try:        curl -s '{api_url}/api/products?limit=3'")
    reload_note = "Code changes reload automatically. " if args.reload else ""
    lines.append(f"Started in {seconds:.2f} s ({state.description if state else 'deployed table'}). {reload_note}Ctrl-C to stop.")
    return "\n" + "\n".join(lines) + "\n"


def catch_stop_signals() -> Callable[[], None]:
    """From now on SIGINT and SIGTERM ask to stop; returns the wait for that request (at once if
    one came meanwhile, e.g. during the start). Python's own C-level handler writes each signal to
    a pipe (its wakeup fd) in whichever thread receives it, and the main thread waits reading that
    pipe: no lock is taken and no Python code has to run first. (An Event.set() in the handler
    waited forever on the Event's lock when the signal landed as the main thread, which runs
    Python handlers, was entering Event.wait(); every later signal was then ignored.)"""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def stop(signal_number: int, frame: FrameType | None) -> None:
        """Nothing to do: the signal is in the pipe already (a handler is needed for that)."""

    def wait() -> None:
        os.read(read_end, 1)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    return wait


def _template_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The values the deployed development stack gets for the template's parameters (from
    samconfig.toml), with --parameter-overrides on top; undeclared names are refused."""
    from shoplocal.samconfig import SamConfigError, deploy_parameter_overrides, parse_overrides
    from shoplocal.template import load_template

    declared = set(load_template(TEMPLATE_PATH).get("Parameters", {}))
    try:
        from_samconfig = deploy_parameter_overrides(args.config_env)
        from_flag = parse_overrides(args.parameter_overrides)
    except SamConfigError as error:
        raise StartError(str(error)) from error
    unknown = sorted(set(from_flag) - declared)
    if unknown:
        raise StartError(f"--parameter-overrides: template.yaml declares no parameter {', '.join(unknown)}")
    return {name: value for name, value in {**LOCAL_PARAMETERS, **from_samconfig, **from_flag}.items() if name in declared}


def serve(args: argparse.Namespace) -> None:
    from shoplocal.gateway import containers
    from shoplocal.gateway.http_server import ApiServer
    from shoplocal.gateway.local_gateway import LocalGateway
    from shoplocal.gateway.reloader import CodeWatcher
    from shoplocal.gateway.s3_events import S3Notifier

    started = time.perf_counter()
    wait_for_stop_signal = catch_stop_signals()  # a Ctrl-C during the start stops the server once it is up
    containers.size_client_pools()
    containers.run_in_worker_processes(args.workers)
    parameters = _template_parameters(args)  # before the store starts: a bad value stops nothing
    plan = _read_django_data(args.django_db) if args.django_db else None  # likewise a bad file
    state = None if args.table else _start_store(args, plan)
    refs = {
        **parameters,
        "ShopTable": args.table or local_store.TABLE_NAME,
        "JwtSigningSecret": args.secret or local_store.SECRET_NAME,
    }
    overrides = {
        "POWERTOOLS_LOG_LEVEL": args.log_level.upper(),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if state:
        # Photos: the store's S3 stands in for the bucket, and serves them (CloudFront's part).
        refs["ImagesBucket"] = local_store.IMAGES_BUCKET
        overrides["IMAGES_BASE_URL"] = f"{state.store.url}/{local_store.IMAGES_BUCKET}"
    stream = None
    if state:
        # Events and webhooks: the table's stream, the bus and the queues, as in AWS (docs/events.md).
        stream, integration = _start_integration()
        refs.update(integration)
        overrides["WEBHOOKS_ALLOW_LOOPBACK"] = "true"  # receivers on this machine (http://127.0.0.1:...)
    gateway = LocalGateway(TEMPLATE_PATH, refs, overrides)
    pollers: list[Any] = []
    if state:
        state.store.s3.on_object_created(S3Notifier(gateway, {"ImagesBucket": local_store.IMAGES_BUCKET}, local_store.REGION))
        pollers = _start_event_sources(gateway, stream, integration)
    try:
        api = ApiServer(args.host, args.api_port, gateway)
    except OSError as error:
        if state:
            state.store.stop()
        raise StartError(f"cannot serve the API on {args.host}:{args.api_port} ({error.strerror}); try API_PORT=3001") from error
    threading.Thread(target=api.serve_forever, name="api-server", daemon=True).start()

    def reload(changed: list[Path]) -> None:
        log.info("Reloading: %s changed", ", ".join(path.name for path in changed[:3]))
        gateway.reload()

    watcher = CodeWatcher(lambda: gateway.code_folders, [TEMPLATE_PATH], reload)
    if args.reload:
        watcher.start()
    api_url = f"http://{local_store.HOST if args.host == '0.0.0.0' else args.host}:{api.server_port}"  # noqa: S104 - a comparison
    print(_banner(api_url, len(gateway.routes), state, args, time.perf_counter() - started), file=sys.stderr, flush=True)

    wait_for_stop_signal()
    for poller in pollers:
        poller.stop()
    api.shutdown()
    if args.reload:
        watcher.stop()
    if state:
        state.store.stop()
        print("Stopped; the data is saved.", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parse_arguments(argv)
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING, stream=sys.stderr)
    log.setLevel(logging.INFO)  # the request log and what the local server does; libraries only warn
    put_code_on_path()
    if args.table:
        os.environ.update({"TABLE_NAME": args.table, "JWT_SECRET_ID": args.secret})
    try:
        serve(args)
    except StartError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
