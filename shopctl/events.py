"""`shopctl events tail`: print the shop's domain events as they reach its EventBridge bus.

EventBridge keeps no log to read back, so the command subscribes for as long as it runs: a
queue of its own and a rule on the bus sending it the shop's events (the types asked for), both
deleted when it stops (Ctrl-C, or after `--count` events). On the local store (`make run`) the
bus is the local one; with `--table`, give the stack's `EventBusName` output as `--bus` (the
credentials need events:PutRule/PutTargets/RemoveTargets/DeleteRule and sqs:CreateQueue/
SetQueueAttributes/ReceiveMessage/DeleteMessage/DeleteQueue).
"""

import argparse
import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from shoplocal.store import local_store

SOURCE = "shop.api"  # what the events function publishes as every event's source


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]", common: argparse.ArgumentParser) -> None:
    events = commands.add_parser("events", help="the shop's domain events (docs/events.md)")
    actions = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    tail = actions.add_parser(
        "tail",
        parents=[common],
        help="print events as they happen (Ctrl-C to stop)",
        description="Print the shop's domain events as they reach its EventBridge bus, one line each "
        "(time, type, id, what it is about), or their full JSON with --json. Subscribes with a temporary "
        "queue and rule, deleted when it stops.",
        epilog="examples:\n  shopctl events tail\n  shopctl events tail --type order.placed --type order.cancelled --json\n"
        "  shopctl events tail --table shop-prod-ShopTable-XYZ --bus shop-prod-events --profile prod",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tail.add_argument("--bus", help=f"the bus (default: the local store's, {local_store.EVENT_BUS}; with --table: required)")
    tail.add_argument("--type", dest="types", action="append", metavar="TYPE", help="only this event type (repeatable)")
    tail.add_argument("--json", action="store_true", help="print each event's full JSON (id, type, time, data)")
    tail.add_argument("--count", type=int, metavar="N", help="stop after N events")
    tail.set_defaults(run=_tail_command)


def _tail_command(args: argparse.Namespace) -> int:
    from shopctl.command_line import EXIT_OK, CommandError

    bus = args.bus or (None if args.table else local_store.EVENT_BUS)
    if not bus:
        raise CommandError("--bus is required with --table: the stack's EventBusName output")
    if args.count is not None and args.count < 1:
        raise CommandError("--count must be at least 1")
    with subscription(bus, args.types) as events:
        print(f"listening to {bus} ({', '.join(args.types) if args.types else 'every event'}); Ctrl-C to stop", file=sys.stderr)
        for shown, event in enumerate(events, start=1):
            print_event(event, args.json, sys.stdout)
            sys.stdout.flush()
            if args.count is not None and shown >= args.count:
                break
    return EXIT_OK


def print_event(event: dict[str, Any], as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(event, separators=(",", ":")) + "\n")
        return
    data = event.get("data") or {}
    about = " ".join(f"{key}={data[key]}" for key in ("id", "username", "name", "status", "total", "price") if key in data)
    out.write(f"{event.get('time')}  {event.get('type'):<22} {event.get('id')}  {about}\n")


@contextmanager
def subscription(bus: str, types: list[str] | None) -> Iterator[Iterator[dict[str, Any]]]:
    """A temporary queue receiving the bus's shop events (of `types`), as an iterator of their
    details; the rule and the queue are deleted on leaving."""
    import boto3

    sqs, events = boto3.client("sqs"), boto3.client("events")
    name = f"shopctl-tail-{secrets.token_hex(4)}"
    pattern: dict[str, Any] = {"source": [SOURCE]}
    if types:
        pattern["detail-type"] = types
    queue_url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "3600"})["QueueUrl"]
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule_arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))["RuleArn"]
        try:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": queue_arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                    }
                ],
            }
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "tail", "Arn": queue_arn}])
            yield _received(sqs, queue_url)
        finally:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=["tail"])
            events.delete_rule(Name=name, EventBusName=bus)
    finally:
        sqs.delete_queue(QueueUrl=queue_url)


def _received(sqs: Any, queue_url: str) -> Iterator[dict[str, Any]]:
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=10).get("Messages", [])
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        # One receive may return events out of order: show them by time (ties by arrival).
        details = [json.loads(message["Body"]).get("detail", {}) for message in messages]
        yield from sorted(details, key=lambda detail: str(detail.get("time", "")))
