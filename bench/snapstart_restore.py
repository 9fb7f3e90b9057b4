"""What SnapStart's before-snapshot work takes off a cold start, measured in fresh processes.

For each function, a fresh Python process imports the handler as Lambda does, then either
answers its first request directly (a cold start without SnapStart), or runs the layer's
before-snapshot hook, then its after-restore hook and then the first request (with SnapStart,
the import and the before-snapshot hook happen once, when the version is published: a restored
environment pays only the after-restore hook and the first request, plus Lambda's own restore).
AWS is the local endpoint of bench/import_times.py answering recorded responses, and the
processes are laid out as Lambda runs them (bench/import_times.py, `lambda_layout`). A restored
SnapStart environment gets its credentials from Lambda's container credentials endpoint, not
from variables (the canned endpoint plays it), so its clients resolve them with botocore's
provider chain, imported before the snapshot.

    python bench/snapstart_restore.py [--runs 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_times import FIRST_REQUEST, canned_aws, lambda_layout
from shoplocal.template import functions, parameter_defaults, resolved_environment

# FIRST_REQUEST with the hooks between the import and the request; the timings it prints:
# import, before-snapshot, after-restore, first request (ms).
WITH_HOOKS = FIRST_REQUEST.replace(
    "imported = time.perf_counter()\n",
    "imported = time.perf_counter()\n"
    "from shop_common import snapstart\n"
    "snapstart.before_snapshot(); snapshotted = time.perf_counter()\n"
    "snapstart.after_restore(); restored = time.perf_counter()\n",
).replace(
    "print(json.dumps([(imported - started) * 1000, (answered - imported) * 1000]), file=sys.__stderr__)",
    "again = time.perf_counter(); handler_module.{handler}(event, Context())\n"
    "print(json.dumps([(imported - started) * 1000, (snapshotted - imported) * 1000, (restored - snapshotted) * 1000,"
    " (answered - restored) * 1000, (time.perf_counter() - again) * 1000]), file=sys.__stderr__)",
)
WITHOUT_HOOKS = FIRST_REQUEST.replace(
    "print(json.dumps([(imported - started) * 1000, (answered - imported) * 1000]), file=sys.__stderr__)",
    "print(json.dumps([(imported - started) * 1000, 0, 0, (answered - imported) * 1000, 0]), file=sys.__stderr__)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement (default 5)")
    runs = parser.parse_args().runs
    with lambda_layout() as (runtime, layer, function_dirs):
        measure(runs, runtime, layer, function_dirs)


def measure(runs: int, runtime: Path, layer: Path, function_dirs: dict[str, Path]) -> None:
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
    refs = {**parameter_defaults(), "ShopTable": "bench", "JwtSigningSecret": "bench-jwt", "ImagesBucket": "bench-images"}
    samples: dict[tuple[str, bool], list[list[float]]] = {(name, hooks): [] for name in cases for hooks in (False, True)}
    for run in range(runs + 1):  # the first round warms the file cache and is not counted
        print(f"run {run}/{runs}", file=sys.stderr)
        for (name, hooks), values in samples.items():
            logical_id, scenario, status = cases[name]
            answers = {response.target: response.body for response in recorded[scenario]} | {"GetSecretValue": secret}
            spec = specs[logical_id]
            environment = {**resolved_environment(spec, refs), "POWERTOOLS_LOG_LEVEL": "WARNING"}
            template = WITH_HOOKS if hooks else WITHOUT_HOOKS
            # The recorded account's hash has 1 iteration: made today's work factor, sign-in does not
            # upgrade it (a full key derivation and a write) on the first request.
            prepare = "from shop_common import passwords; passwords.ITERATIONS = 1" if logical_id == "AuthFunction" else ""
            code = template.format(
                module=spec.module, function=logical_id, handler=spec.function_name, status=status, prepare=prepare
            )
            with canned_aws(answers) as endpoint:
                env = {**os.environ, **environment, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "eu-west-1"}
                env |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
                env["PYTHONPATH"] = os.pathsep.join(map(str, [function_dirs[logical_id], layer, runtime]))
                if hooks:  # SnapStart: container credentials
                    env |= {
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{endpoint}/credentials",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t",
                    }
                    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                        env.pop(name, None)
                else:
                    env |= {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
                result = subprocess.run(  # noqa: S603
                    [sys.executable, "-S", "-c", code],
                    input=json.dumps(events[scenario]),
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            if run:
                values.append(json.loads(result.stderr.strip().splitlines()[-1]))
    print(f"\nMedian of {runs} fresh processes (as Lambda lays them out), ms. Without SnapStart: import, first request;")
    print("with it: the hooks, the first request after the restore, and a second (warm) request:\n")
    print("| function | import | first request | before snapshot | after restore | first request | warm request |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in cases:
        cold = samples[(name, False)]
        warm = samples[(name, True)]

        def median(values: list[list[float]], column: int) -> float:
            return statistics.median(value[column] for value in values)

        print(
            f"| {name} | {median(cold, 0):.0f} | {median(cold, 3):.0f} | {median(warm, 1):.0f} | {median(warm, 2):.0f} "
            f"| {median(warm, 3):.0f} | {median(warm, 4):.0f} |"
        )


if __name__ == "__main__":
    main()
