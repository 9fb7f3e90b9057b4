"""Dollars per million requests of each endpoint: Lambda, DynamoDB, API Gateway and logs, from
the prices and per-request figures below (docs/scaling.md explains where each comes from).

    python bench/cost_model.py              # the table of docs/scaling.md
    python bench/cost_model.py --item-kb 1  # products of ~1 KB (long descriptions) instead of ~0.2 KB

Replace the duration estimates with the p50 durations your own stack reports (the dashboard's
Duration widget, or bench/loadtest.py against it) to price your traffic.
"""

import argparse
import math
from dataclasses import dataclass

# Published on-demand prices, us-east-1 (see docs/scaling.md for the date and the sources).
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
API_GATEWAY_HTTP_PER_MILLION = 1.00
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
LOGS_PER_GB_INGESTED = 0.50
# Log bytes a request writes: the function's JSON lines, Lambda's START/END/REPORT, the access log.
LOG_KB_PER_REQUEST = 1.0

ORDER_KB = 0.3  # an order item of a few parts; grows ~60 bytes a part
GUARD_KB = 0.1
PROFILE_KB = 3.0  # a profile with a full map of 50 signed-out sign-ins (~0.3 KB without)


@dataclass(frozen=True)
class Endpoint:
    name: str
    memory_mb: int
    duration_ms: float  # estimated warm billed duration on Lambda, see docs/scaling.md
    read_units: float
    write_units: float


def read_units(kilobytes: float, *, consistent: bool) -> float:
    """Read request units of one read returning `kilobytes` (4 KB steps; half for eventual)."""
    return math.ceil(max(kilobytes, 0.001) / 4) * (1 if consistent else 0.5)


def transactional_write_units(kilobytes: float) -> float:
    return 2 * math.ceil(max(kilobytes, 0.001))


def index_write_units(kilobytes: float) -> float:
    """A global secondary index's copy of an item written: 1 WRU per KB, transaction or not."""
    return math.ceil(max(kilobytes, 0.001))


def endpoints(item_kb: float) -> list[Endpoint]:
    page = 50
    # Every signed-in request first reads the caller's profile, strongly consistent (the account
    # check: revoked tokens stop at the next request): one item below 4 KB.
    account_check = read_units(PROFILE_KB, consistent=True)
    # A link: a Query of 51 keys on the keys-only index of every product (~70 bytes each), then
    # one BatchGetItem of the 50 products and the counters item, each item rounded up to 4 KB.
    products = read_units(51 * 0.07, consistent=False) + (page + 1) * read_units(item_kb, consistent=False)

    def order(lines: int) -> Endpoint:
        advisory_reads = account_check + lines * read_units(item_kb, consistent=False)  # BatchGetItem rounds per item
        writes = (
            transactional_write_units(0.2)  # condition check on the customer's profile
            + lines * transactional_write_units(item_kb)  # each product's stock, conditionally
            + transactional_write_units(ORDER_KB + 0.06 * lines)  # the order
            + transactional_write_units(GUARD_KB)  # its id guard
            + lines * math.ceil(item_kb)  # the listing index copies each product's new stock
            + index_write_units(ORDER_KB + 0.06 * lines)  # the order in the staff's all-orders index (GSI1, all attributes)
            + index_write_units(0.1)  # ... and in its customer's orders by status (GSI3, keys only)
        )
        name = f"POST /api/order ({lines} product{'s' if lines > 1 else ''})"
        return Endpoint(name, 512, 25 + 0.5 * lines, advisory_reads, writes)

    return [
        Endpoint("GET /api/products (50)", 512, 12, products, 0),
        order(1),
        order(10),
        Endpoint("GET /api/my-orders (10 orders)", 512, 8, account_check + read_units(10 * ORDER_KB, consistent=False), 0),
        Endpoint("POST /api/auth (sign-in)", 1024, 360, 2 * read_units(0.3, consistent=True), 0),
        Endpoint("POST /api/refresh", 1024, 6, read_units(0.3, consistent=True), 0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--item-kb", type=float, default=0.21, help="size of a product item in KB (default 0.21, the demo's)")
    args = parser.parse_args()
    print("| endpoint | Lambda GB-s | RRU | WRU | Lambda $ | DynamoDB $ | API Gateway $ | logs $ | total $ |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    totals: dict[str, float] = {}
    for endpoint in endpoints(args.item_kb):
        gb_seconds = endpoint.memory_mb / 1024 * endpoint.duration_ms / 1000  # per request
        lambda_cost = gb_seconds * 1e6 * LAMBDA_ARM_GB_SECOND + LAMBDA_PER_MILLION_REQUESTS
        dynamodb = endpoint.read_units * DYNAMODB_PER_MILLION_READ_UNITS + endpoint.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS
        logs = LOG_KB_PER_REQUEST * 1e6 / 1024**2 * LOGS_PER_GB_INGESTED
        totals[endpoint.name] = total = lambda_cost + dynamodb + API_GATEWAY_HTTP_PER_MILLION + logs
        print(
            f"| {endpoint.name} | {gb_seconds:.4f} | {endpoint.read_units:g} | {endpoint.write_units:g} | {lambda_cost:.2f} "
            f"| {dynamodb:.2f} | {API_GATEWAY_HTTP_PER_MILLION:.2f} | {logs:.2f} | {total:.2f} |"
        )
    by_name = {endpoint.name: endpoint for endpoint in endpoints(args.item_kb)}
    mixed = sum(share * totals[name] for name, share in MIX.items())
    concurrency = sum(share * 1000 * by_name[name].duration_ms / 1000 for name, share in MIX.items())
    reads = sum(share * by_name[name].read_units for name, share in MIX.items())
    writes = sum(share * by_name[name].write_units for name, share in MIX.items())
    print(
        f"\nThe mix ({', '.join(f'{share:.0%} {name}' for name, share in MIX.items())}): ${mixed:.2f} per million "
        f"requests, ${mixed * 2.592e9 / 1e6:,.0f} a month at a sustained 1,000 requests a second; at that rate "
        f"{concurrency:.0f} executions, {reads * 1000:,.0f} RRU/s and {writes * 1000:,.0f} WRU/s."
    )


# A mixed load: mostly browsing.
MIX = {
    "GET /api/products (50)": 0.80,
    "GET /api/my-orders (10 orders)": 0.10,
    "POST /api/order (1 product)": 0.05,
    "POST /api/refresh": 0.04,
    "POST /api/auth (sign-in)": 0.01,
}


if __name__ == "__main__":
    main()
