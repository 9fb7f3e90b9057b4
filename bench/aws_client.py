"""The functions' AWS client beside boto3's, at the client, in fresh processes laid out as Lambda
runs them (bench/import_times.py's `lambda_layout`: Python without site packages, the runtime's
boto3, the layer as `sam build` ships it, precompiled). Four ways to make a function's DynamoDB
calls:

- boto3: `import boto3`, a DynamoDB client (the function's init), then the first request;
- boto3 with SnapStart: that init before the snapshot, the client's credentials resolved from
  the container credentials endpoint; a restored environment only makes the first request;
- lean (`shop_common.dynamo.client()`): its import and client, then the first request;
- lean with SnapStart: the layer's before-snapshot work (client, credentials) before the
  snapshot; after a restore its after-restore hook (new clients, credentials resolved again)
  and the first request.

A request is the DynamoDB calls of one of bench/handler_cpu.py's requests, with the parameters
and answers recorded there on moto (a local endpoint answers them over HTTP): a products page
of the demo catalogue, a page of "Blue ..." names, an order of one product. Reported: init
(import + client), the first request (with SnapStart: restore hook + first request), and warm
CPU per request (median of `--calls`). CPU time of the process (`time.process_time`), which a
machine busy with other work stretches far less than the wall clock (shown beside it).

    python bench/aws_client.py [--runs 5] [--calls 200]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_times import canned_aws, lambda_layout

VARIANTS = ("boto3", "boto3, SnapStart", "lean", "lean, SnapStart")
REQUESTS = {
    "products page (demo names)": "products page (50)",
    "products page ('Blue ...' names)": "products page 3 (50, 'Blue ...' names)",
    "order of 1 product": "order of 1 product",
}
CHILD = """
import json, statistics, sys, time
calls = json.loads(sys.stdin.read())
variant, warm_calls = {variant!r}, {calls}
def clock():
    return time.process_time(), time.perf_counter()
def since(start):
    now = clock()
    return [(now[0] - start[0]) * 1000, (now[1] - start[1]) * 1000]
def snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
started = clock()
if variant.startswith("boto3"):
    import boto3
    client = boto3.client("dynamodb")
    if variant.endswith("SnapStart"):
        client._request_signer._credentials.get_frozen_credentials()
else:
    from shop_common import dynamo
    client = dynamo.client()
    if variant.endswith("SnapStart"):
        from shop_common import snapstart
        snapstart.before_snapshot()
init = since(started)
def request():
    for operation, params in calls:
        try:
            getattr(client, snake(operation))(**params)
        except Exception as error:  # a recorded refusal (none in these requests)
            raise SystemExit(f"{{operation}}: {{error}}")
started = clock()
if variant == "lean, SnapStart":
    snapstart.after_restore()
    client = dynamo.client()
request()
first = since(started)
samples = []
for _ in range(warm_calls):
    started = time.process_time()
    request()
    samples.append((time.process_time() - started) * 1000)
print(json.dumps({{"init": init, "first": first, "warm": statistics.median(samples)}}), file=sys.__stderr__)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per variant and request (default 5)")
    parser.add_argument("--calls", type=int, default=200, help="warm requests timed in each process (default 200)")
    args = parser.parse_args()
    with lambda_layout() as (runtime, layer, _function_dirs):
        measure(args.runs, args.calls, runtime, layer)


def measure(runs: int, calls: int, runtime: Path, layer: Path) -> None:
    from bench.handler_cpu import recorded_events

    _events, recorded = recorded_events()
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {(variant, name): [] for variant in VARIANTS for name in REQUESTS}
    for run in range(runs + 1):  # the first round warms the file cache and is not counted
        print(f"run {run}/{runs}", file=sys.stderr)
        for (variant, name), values in samples.items():
            recording = recorded[REQUESTS[name]]
            made = [[response.target, json.loads(response.request)] for response in recording]
            answers = {response.target: response.body for response in recording}
            with canned_aws(answers) as endpoint:
                env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "eu-west-1", "TABLE_NAME": "bench"}
                env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
                env["PYTHONPATH"] = os.pathsep.join(map(str, [runtime] if variant.startswith("boto3") else [layer, runtime]))
                for secret in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "JWT_SECRET_ID"):
                    env.pop(secret, None)
                if variant.endswith("SnapStart"):  # Lambda's container credentials
                    env |= {
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint}/credentials",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t",
                    }
                else:
                    env |= {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
                result = subprocess.run(  # noqa: S603
                    [sys.executable, "-S", "-c", CHILD.format(variant=variant, calls=calls)],
                    input=json.dumps(made),
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if result.returncode:
                sys.exit(f"{variant}, {name} failed:\n{result.stderr[-3000:]}")
            if run:
                values.append(json.loads(result.stderr.strip().splitlines()[-1]))
    report(runs, calls, samples)


def report(runs: int, calls: int, samples: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    def median(values: list[dict[str, Any]], key: str, index: int | None = None) -> float:
        return float(statistics.median(value[key] if index is None else value[key][index] for value in values))

    print(f"\nMedian of {runs} fresh processes per cell; ms of CPU (wall in brackets); warm: median of {calls} requests.\n")
    print("| request | client | init (import + client) | first request (SnapStart: restore + first) | warm CPU per request |")
    print("|---|---|---:|---:|---:|")
    for name in REQUESTS:
        for variant in VARIANTS:
            values = samples[(variant, name)]
            init = f"{median(values, 'init', 0):.1f} ({median(values, 'init', 1):.1f})"
            first = f"{median(values, 'first', 0):.1f} ({median(values, 'first', 1):.1f})"
            print(f"| {name} | {variant} | {init} | {first} | {median(values, 'warm'):.3f} |")


if __name__ == "__main__":
    main()
