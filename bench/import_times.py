"""Cold-start import cost of each function's handler module, next to `import boto3` plus a
DynamoDB client (the floor for any function that talks to DynamoDB), measured in the same run.

Each sample is a fresh Python process importing the handler as Lambda does: the layer and the
function's folder on sys.path, the function's environment from template.yaml. Samples of the
functions and the baseline are interleaved, so machine noise hits them alike.

    python bench/import_times.py             # the source tree and the dev virtualenv (.pyc cached)
    python bench/import_times.py --shipped   # a layer laid out as `sam build` ships it, for this
                                             # machine's platform: first without .pyc (what
                                             # `sam build` gives), then precompiled
"""

import argparse
import compileall
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shoplocal.template import functions, layer_paths, parameter_defaults, resolved_environment

BASELINE = "import boto3; boto3.client('dynamodb', region_name='eu-west-1')"


def sample(code: str, pythonpath: list[Path], environment: dict[str, str], no_bytecode: bool) -> float:
    script = f"import time; t = time.perf_counter(); {code}; print((time.perf_counter() - t) * 1000)"
    env = {**os.environ, **environment, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), "AWS_DEFAULT_REGION": "eu-west-1"}
    if no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return float(result.stdout.strip().splitlines()[-1])


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
        shutil.copytree(spec.code_dir, function_dirs[spec.logical_id], ignore=ignore)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per measurement (default 5)")
    parser.add_argument("--shipped", action="store_true", help="measure the layer as shipped, without and with .pyc")
    args = parser.parse_args()

    refs = {**parameter_defaults(), "ShopTable": "bench-table", "JwtSigningSecret": "bench-secret"}
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
