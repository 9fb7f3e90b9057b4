"""Dollars per million orders of the events and webhooks: the stream, the events function, the
bus, the webhook queue, the sender, their DynamoDB items and logs (docs/events.md, "What it
costs"). Two traffic shapes bound the figure: `sparse`, every order alone (each invocation,
receive and send carries one), and `busy`, full batches (100 stream records, 10 messages).

    python bench/event_costs.py              # the table of docs/events.md
    python bench/event_costs.py --endpoints 3 --receiver-ms 300

Durations are estimates of warm billed time on Lambda (arm64, 256 MB) from the calls each
invocation makes; replace them with your stack's p50 Duration to price your own traffic.
"""

import argparse
import math
from dataclasses import dataclass

# Published on-demand prices, us-east-1 (the same as bench/cost_model.py; docs/scaling.md).
LAMBDA_ARM_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
EVENTBRIDGE_PER_MILLION_EVENTS = 1.00  # custom events, per 64 KB chunk; delivery to SQS targets is free
SQS_PER_MILLION_REQUESTS = 0.40  # standard queue, per 64 KB chunk
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
LOGS_PER_GB_INGESTED = 0.50
# DynamoDB Streams: read requests made by Lambda's event source mapping are free, and so is the stream.
STREAM_READS = 0.0

MEMORY_GB = 0.25
# Stream records an order writes that reach the events function (its filters drop the rest):
# the order's item and each product's stock (1 line: 2 records; the id guard, counters, offers
# and the delivery items are filtered out before any invocation).
RECORDS_PER_ORDER = 2
EVENTS_PER_ORDER = 1.02  # order.placed, and product.sold_out for ~2 % of orders


@dataclass(frozen=True)
class Shape:
    name: str
    stream_batch: int  # records per invocation of the events function
    queue_batch: int  # messages per receive and per invocation of the sender


SHAPES = (Shape("sparse", 1, 1), Shape("busy", 100, 10))


def lambda_cost(invocations: float, milliseconds: float) -> float:
    billed_ms = math.ceil(milliseconds)
    return invocations * (LAMBDA_PER_MILLION_REQUESTS / 1e6 + billed_ms / 1000 * MEMORY_GB * LAMBDA_ARM_GB_SECOND)


def costs(shape: Shape, endpoints: int, receiver_ms: float) -> dict[str, float]:
    """Dollars per million orders, by part, for `endpoints` endpoints subscribed to order.placed."""
    orders = 1e6
    events = orders * EVENTS_PER_ORDER
    deliveries = orders * endpoints  # order.placed to each endpoint
    # The events function: per invocation ~15 ms plus ~20 ms per PutEvents call (10 events a call).
    stream_invocations = orders * RECORDS_PER_ORDER / shape.stream_batch
    events_ms = 15 + 20 * math.ceil(shape.stream_batch * EVENTS_PER_ORDER / RECORDS_PER_ORDER / 10)
    # The sender: a fan-out (one Query of the endpoints, a PutItem per delivery, one SendMessageBatch)
    # and an attempt per delivery (one BatchGetItem, the POST, one UpdateItem), attempts in parallel.
    fan_out_invocations = events / shape.queue_batch
    fan_out_ms = 10 + 8 + 6 * endpoints * shape.queue_batch + 10
    attempt_invocations = deliveries / shape.queue_batch
    attempt_ms = 10 + receiver_ms + 8
    # SQS requests: the rule's send, the fan-out's send (10 per call), and for each of the two
    # messages a receive and a delete (batched by Lambda).
    sqs_requests = events + math.ceil(endpoints / 10) * events + 2 * (events + deliveries) / shape.queue_batch
    # DynamoDB: per fan-out batch a Query of the endpoints (~0.5 KB each, eventually consistent);
    # per delivery a PutItem (~1.5 KB with its payload: 2 WCU), a consistent BatchGetItem of the
    # endpoint, its secrets and the delivery (3 RCU), an UpdateItem of the delivery (2 WCU).
    query_units = math.ceil(endpoints * 0.5 / 4) * 0.5
    read_units = fan_out_invocations * query_units + deliveries * 3
    write_units = deliveries * 4
    # Logs: ~0.4 KB of START/END/REPORT per invocation, ~0.4 KB per event and per delivery logged.
    log_gb = (0.4 * (stream_invocations + fan_out_invocations + attempt_invocations) + 0.4 * (events + 2 * deliveries)) / 1e6
    return {
        "stream reads": STREAM_READS,
        "events function": lambda_cost(stream_invocations, events_ms),
        "EventBridge": events * EVENTBRIDGE_PER_MILLION_EVENTS / 1e6,
        "SQS": sqs_requests * SQS_PER_MILLION_REQUESTS / 1e6,
        "sender function": lambda_cost(fan_out_invocations, fan_out_ms) + lambda_cost(attempt_invocations, attempt_ms),
        "DynamoDB (deliveries)": read_units * DYNAMODB_PER_MILLION_READ_UNITS / 1e6
        + write_units * DYNAMODB_PER_MILLION_WRITE_UNITS / 1e6,
        "logs": log_gb * LOGS_PER_GB_INGESTED,
    }


def table(endpoints: int = 1, receiver_ms: float = 100.0) -> str:
    """The Markdown table of docs/events.md."""
    by_shape = {shape.name: costs(shape, endpoints, receiver_ms) for shape in SHAPES}
    parts = list(by_shape[SHAPES[0].name])
    lines = ["| per million orders | " + " | ".join(f"{shape.name}" for shape in SHAPES) + " |", "|---|" + "---:|" * len(SHAPES)]
    for part in parts:
        lines.append(f"| {part} | " + " | ".join(f"${by_shape[shape.name][part]:.2f}" for shape in SHAPES) + " |")
    lines.append("| **total** | " + " | ".join(f"**${sum(by_shape[shape.name].values()):.2f}**" for shape in SHAPES) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", type=int, default=1, help="webhook endpoints subscribed to order.placed (default 1)")
    parser.add_argument("--receiver-ms", type=float, default=100.0, help="how long a receiver takes to answer (default 100)")
    args = parser.parse_args()
    print(table(args.endpoints, args.receiver_ms))


if __name__ == "__main__":
    main()
