"""`shopctl` at catalogue scale against the local server's store (`make run`): load N products
with SKUs, load the same file again (all unchanged), export, and `import --replace` the export;
and how long a product listing waits while the export reads the table.

    python bench/shopctl_bulk.py [--products 50000]

Figures go to docs/local-development.md by hand; they are this machine's, not a target.
"""

import argparse
import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from local_server import LocalServer, start_server  # noqa: E402 - after the path is set


def write_catalogue(path: Path, count: int) -> None:
    rng = random.Random(1)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["sku", "name", "description", "price", "quantity"])
        for n in range(count):
            price = f"{rng.uniform(1, 500):.2f}"
            writer.writerow([f"SKU-{n:06d}", f"Product {n}", f"Description of product {n}.", price, rng.randint(0, 250)])


def timed_shopctl(server: LocalServer, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "shopctl.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DB_PORT": str(server.db_port)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"shopctl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    summary = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1]  # export's goes to stderr
    print(f"  {args[0]}: {seconds:.1f} s  | {summary}")
    return seconds


def listing_waits_during(server: LocalServer, work: threading.Thread) -> list[float]:
    waits = []
    work.start()
    while work.is_alive():
        started = time.perf_counter()
        assert server.request("GET", "/api/products?limit=3").status == 200
        waits.append(time.perf_counter() - started)
        time.sleep(0.5)
    return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        catalogue = work / "catalogue.csv"
        write_catalogue(catalogue, args.products)
        server = start_server(work / "data")
        try:
            server.request("GET", "/api/products?limit=3")  # the function's cold start, not the export's doing
            print(f"{args.products:,} products on the local store:")
            timed_shopctl(server, "load-products", str(catalogue))
            timed_shopctl(server, "load-products", str(catalogue))
            backup = str(work / "backup.json")
            export = threading.Thread(target=timed_shopctl, args=(server, "export", backup, "--include-password-hashes"))
            waits = sorted(listing_waits_during(server, export))
            if waits:
                print(f"  a listing during the export: median {waits[len(waits) // 2]:.2f} s, worst {waits[-1]:.2f} s")
            timed_shopctl(server, "import", backup, "--replace", "--yes")
        finally:
            server.process.send_signal(signal.SIGINT)
            server.process.wait(timeout=600)  # saving a store this size takes longer than the tests' 30 s


if __name__ == "__main__":
    main()
