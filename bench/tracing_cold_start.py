"""What the powertools Tracer would add to each cold start, to choose the `Tracing` default.

Each sample is a fresh Python process that imports a function's handler module as Lambda does
(the layer and the function's folder on sys.path, its environment from template.yaml), with and
without `Tracer()` created beside it. `LAMBDA_TASK_ROOT` is set so the Tracer behaves as in
Lambda: it imports the X-Ray SDK and patches botocore (every DynamoDB call becomes a subsegment).
Samples with and without are interleaved, so machine noise hits them alike, and each is the
process's CPU time for the import (on Lambda, an import is CPU-bound: the files are local).

    python bench/tracing_cold_start.py [--runs 9]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shoplocal.template import functions, layer_paths, parameter_defaults, resolved_environment

WITH_TRACER = "; from aws_lambda_powertools import Tracer; Tracer()"


# What the events and webhook functions name besides the table, the secret and the bucket.
OTHER_RESOURCES = {"EventBus": "bench-bus", "WebhookQueue": "https://sqs.eu-west-1.amazonaws.com/123456789012/bench-webhooks"}


def sample(code: str, pythonpath: list[Path], environment: dict[str, str]) -> float:
    # CPU time of the process, not the wall clock: a busy machine stretches the one, not the other.
    script = f"import time; t = time.process_time(); {code}; print((time.process_time() - t) * 1000)"
    env = {
        **os.environ,
        **environment,
        "PYTHONPATH": os.pathsep.join(map(str, pythonpath)),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "LAMBDA_TASK_ROOT": tempfile.gettempdir(),
    }
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per measurement (default 9)")
    args = parser.parse_args()

    refs = {
        **parameter_defaults(),
        "ShopTable": "bench-table",
        "JwtSigningSecret": "bench-secret",
        "ImagesBucket": "bench-img",
        **OTHER_RESOURCES,
    }
    (layer,) = layer_paths()
    print(f"\nImport of each handler module, CPU ms, median of {args.runs} fresh processes (.pyc cached):\n")
    print("| function | without Tracer ms | with Tracer ms | Tracer adds ms |")
    print("|---|---:|---:|---:|")
    for spec in functions().values():
        path = [spec.code_dir, layer]
        environment = resolved_environment(spec, refs)
        code = f"import {spec.module}"
        for variant in (code, code + WITH_TRACER):  # warm-up: the OS file cache and .pyc
            sample(variant, path, environment)
        without, with_tracer = [], []
        for _ in range(args.runs):
            without.append(sample(code, path, environment))
            with_tracer.append(sample(code + WITH_TRACER, path, environment))
        plain, traced = statistics.median(without), statistics.median(with_tracer)
        print(f"| {spec.logical_id} | {plain:.0f} | {traced:.0f} | {traced - plain:.0f} |")


if __name__ == "__main__":
    main()
