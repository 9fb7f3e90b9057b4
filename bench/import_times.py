"""Cold-start import cost of each function's handler module, next to `import boto3` plus a
DynamoDB client (the floor for any function that talks to DynamoDB), measured in the same run.

Each sample is a fresh Python process importing the handler as Lambda does: the layer and the
function's folder on sys.path, the function's environment from template.yaml. Samples of the
functions and the baseline are interleaved, so machine noise hits them alike.

    python bench/import_times.py             # the source tree and the dev virtualenv (.pyc cached)
    python bench/import_times.py --shipped   # a layer laid out as `sam build` ships it, for this
                                             # machine's platform: first without .pyc (what
                                             # `sam build` gives), then precompiled
    python bench/import_times.py --first-request   # import plus the first request of each
                                             # function, against the floor: import boto3, a
                                             # DynamoDB client and one call

For --first-request, DynamoDB and Secrets Manager are a small local HTTP server answering each
call with a response recorded on moto beforehand (bench/handler_cpu.py records them), so the
fresh process does what a cold Lambda does: create its clients, sign, send over HTTP, parse.
The processes see what a Lambda container has and nothing else: Python without its site
packages (`-S`), the runtime's boto3 and botocore (the version requirements-dev.txt pins), the
layer as `sam build` ships it (its requirements, precompiled) and the function's folder; the
floor, the runtime's boto3 alone. (The dev virtualenv also holds moto's dependencies, which
change what some imports cost: pyjwt, for one, imports `cryptography` when it finds it.)
"""

import argparse
import compileall
import http.server
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shoplocal.template import PROJECT_ROOT, functions, layer_paths, parameter_defaults, resolved_environment

BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-west-1')"


# What the events and webhook functions name besides the table, the secret and the bucket.
OTHER_RESOURCES = {"EventBus": "bench-bus", "WebhookQueue": "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-webhooks"}


def sample(code: str, pythonpath: list[Path], environment: dict[str, str], no_bytecode: bool) -> float:
    script = f"import time; t = time.perf_counter(); {code}; print((time.perf_counter() - t) * 1000)"
    env = {**os.environ, **environment, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), "AWS_DEFAULT_REGION": "eu-west-1"}
    if no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return float(result.stdout.strip().splitlines()[-1])


def runtime_boto3(into: Path) -> Path:
    """boto3 and botocore as Lambda's Python runtime provides them (not shipped in the layer)."""
    runtime = into / "runtime"
    pin = next(line for line in (PROJECT_ROOT / "requirements-dev.txt").read_text().splitlines() if line.startswith("boto3=="))
    print(f"installing the runtime's {pin} into a scratch folder ...", file=sys.stderr)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(runtime), pin]
    subprocess.run(pip, check=True)  # noqa: S603
    return runtime


def ship(into: Path) -> tuple[Path, dict[str, Path]]:
    """Lay out the layer and the functions as `sam build` does, with no .pyc anywhere."""
    layer = into / "layer" / "python"
    (source,) = layer_paths()
    requirements = source / "requirements.txt"
    print("installing the layer's requirements into a scratch folder ...", file=sys.stderr)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(layer), "-r", str(requirements)]
    subprocess.run(pip, check=True)  # noqa: S603
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(source / "shop_common", layer / "shop_common", ignore=ignore)
    function_dirs = {}
    for spec in functions().values():
        function_dirs[spec.logical_id] = into / spec.logical_id
        shutil.copytree(spec.code_dir / spec.package, function_dirs[spec.logical_id] / spec.package, ignore=ignore)
    return layer, function_dirs


def measure(targets: dict[str, tuple[str, list[Path], dict[str, str]]], runs: int, no_bytecode: bool) -> dict[str, list[float]]:
    for code, path, environment in targets.values():  # warm-up: the OS file cache (and .pyc, unless disabled)
        sample(code, path, environment, no_bytecode)
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for run in range(runs):
        print(f"run {run + 1}/{runs}", file=sys.stderr)
        for name, (code, path, environment) in targets.items():
            samples[name].append(sample(code, path, environment, no_bytecode))
    return samples


def report(title: str, samples: dict[str, list[float]]) -> None:
    print(f"\n{title}\n")
    print("| module | median ms | min-max ms |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.0f} | {min(values):.0f}-{max(values):.0f} |")


FIRST_REQUEST = """
import json, sys, time
started = time.perf_counter()
import {module} as handler_module
imported = time.perf_counter()
{prepare}
class Context:
    function_name = "{function}"
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:{function}"
    def get_remaining_time_in_millis(self): return 10000
event = json.loads(sys.stdin.read())
response = handler_module.{handler}(event, Context())
answered = time.perf_counter()
assert response["statusCode"] == {status}, response
print(json.dumps([(imported - started) * 1000, (answered - imported) * 1000]), file=sys.__stderr__)
"""
FLOOR = """
import sys, time, json
started = time.perf_counter()
import boto3
client = boto3.client("dynamodb")
client.get_item(TableName="bench", Key={"PK": {"S": "CATALOG"}, "SK": {"S": "META"}})
print(json.dumps([(time.perf_counter() - started) * 1000, 0]), file=sys.__stderr__)
"""


CONTAINER_CREDENTIALS = {
    "AccessKeyId": "bench",
    "SecretAccessKey": "bench",
    "Token": "bench",
    "Expiration": "2099-01-01T00:00:00Z",
}


@contextmanager
def lambda_layout() -> Iterator[tuple[Path, Path, dict[str, Path]]]:
    """A scratch folder laid out as Lambda runs the functions: the runtime's boto3, the layer as
    `sam build` ships it and each function's folder, all precompiled. Yields those folders."""
    with tempfile.TemporaryDirectory() as scratch:
        runtime = runtime_boto3(Path(scratch))
        layer, function_dirs = ship(Path(scratch))
        compileall.compile_dir(scratch, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        yield runtime, layer, function_dirs


@contextmanager
def canned_aws(answers: dict[str, bytes]) -> Iterator[str]:
    """A local endpoint answering each X-Amz-Target with its recorded body, and at
    /credentials as Lambda's container credentials endpoint does (SnapStart's credentials)."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(CONTAINER_CREDENTIALS).encode()
            self.send_response(200 if self.path == "/credentials" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = answers[self.headers["X-Amz-Target"].split(".")[-1]]
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def first_request_times(runs: int) -> None:
    """Import plus first request of each function, in fresh processes, beside the floor."""
    with lambda_layout() as (runtime, layer, function_dirs):
        _first_request_times(runs, runtime, layer, function_dirs)


def _first_request_times(runs: int, runtime: Path, layer: Path, function_dirs: dict[str, Path]) -> None:
    from bench.handler_cpu import SCENARIOS, recorded_events
    from shop_common.secrets import signing_keys

    events, recorded = recorded_events()
    keys = signing_keys()  # as recorded: the tokens in the events name this version
    secret = json.dumps({"Name": "bench-jwt", "SecretString": keys.current.decode(), "VersionId": keys.current_id}).encode()
    specs = functions()
    cases = {
        "ProductsFunction (products page)": ("ProductsFunction", SCENARIOS[0], 200),
        "OrdersFunction (order of 1 product)": ("OrdersFunction", SCENARIOS[1], 201),
        "AuthFunction (sign-in, no KDF)": ("AuthFunction", SCENARIOS[4], 200),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ["floor: import boto3 + client + GetItem", *cases]}
    refs = {**parameter_defaults(), "ShopTable": "bench", "JwtSigningSecret": "bench-jwt", "ImagesBucket": "bench-images"}
    for run in range(runs + 1):  # the first round warms the file cache and is not counted
        print(f"run {run}/{runs}", file=sys.stderr)
        for name in samples:
            logical_id, scenario, status = cases.get(name, ("ProductsFunction", SCENARIOS[0], 200))
            # The scenario's own answers first; a call the warm recording did not make (its
            # result was cached by then, e.g. in a per-container cache) gets another scenario's.
            others = {response.target: response.body for name in recorded for response in recorded[name]}
            own = {response.target: response.body for response in recorded[scenario]}
            answers = {"GetItem": b"{}"} | others | own | {"GetSecretValue": secret}  # {}: the floor's item absent
            spec = specs[logical_id]
            environment = {**resolved_environment(spec, refs), "POWERTOOLS_LOG_LEVEL": "WARNING"}
            # The recorded account's hash has 1 iteration: made today's work factor, sign-in does
            # not upgrade it (a full key derivation and a write) on the first request.
            prepare = "from shop_common import passwords; passwords.ITERATIONS = 1" if logical_id == "AuthFunction" else ""
            code = FIRST_REQUEST.format(
                module=spec.module, function=logical_id, handler=spec.function_name, status=status, prepare=prepare
            )
            with canned_aws(answers) as endpoint:
                env = {**os.environ, **environment, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "eu-west-1"}
                env |= {
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                    "PYTHONPATH": os.pathsep.join(
                        map(str, [runtime] if name.startswith("floor") else [function_dirs[logical_id], layer, runtime])
                    ),
                }
                result = subprocess.run(  # noqa: S603
                    [sys.executable, "-S", "-c", FLOOR if name.startswith("floor") else code],
                    input=json.dumps(events[scenario]),
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if result.returncode:
                sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
            if run:
                imported, first = json.loads(result.stderr.strip().splitlines()[-1])
                samples[name].append((imported, first))
    floor = statistics.median(imported + first for imported, first in samples["floor: import boto3 + client + GetItem"])
    print(f"\nImport plus first request, median of {runs} fresh processes (as Lambda lays them out, precompiled):\n")
    print("| | import ms | first request ms | total ms | total / floor |")
    print("|---|---:|---:|---:|---:|")
    for name, values in samples.items():
        imported = statistics.median(value[0] for value in values)
        first = statistics.median(value[1] for value in values)
        total = statistics.median(value[0] + value[1] for value in values)
        print(f"| {name} | {imported:.0f} | {first:.0f} | {total:.0f} | {total / floor:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement (default 5)")
    parser.add_argument("--shipped", action="store_true", help="measure the layer as shipped, without and with .pyc")
    parser.add_argument("--first-request", action="store_true", help="import plus first request, against the floor")
    args = parser.parse_args()
    if args.first_request:
        first_request_times(args.runs)
        return

    refs = {
        **parameter_defaults(),
        "ShopTable": "bench-table",
        "JwtSigningSecret": "bench-secret",
        "ImagesBucket": "bench-img",
        **OTHER_RESOURCES,
    }
    with tempfile.TemporaryDirectory() as scratch:
        layer, function_dirs = ship(Path(scratch)) if args.shipped else (layer_paths()[0], {})
        targets: dict[str, tuple[str, list[Path], dict[str, str]]] = {"boto3 + DynamoDB client": (BASELINE, [], {})}
        for spec in functions().values():
            path = [function_dirs.get(spec.logical_id, spec.code_dir), layer]
            environment = resolved_environment(spec, refs)
            targets[f"{spec.logical_id} ({spec.module})"] = (f"import {spec.module}", path, environment)
        if not args.shipped:
            report(f"Source tree, median of {args.runs} fresh processes (.pyc cached):", measure(targets, args.runs, False))
            return
        report(f"As `sam build` ships it (no .pyc), median of {args.runs}:", measure(targets, args.runs, True))
        compileall.compile_dir(scratch, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        report(f"Precompiled (.pyc shipped), median of {args.runs}:", measure(targets, args.runs, True))


if __name__ == "__main__":
    main()
