"""Record the DynamoDB calls the code under test makes: operation, parameters, items read."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    items_read: int = 0


@dataclass
class CallRecorder:
    calls: list[Call] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        """Record the calls of `client` from now on: the functions' (shop_common.dynamo's), or
        a boto3 client."""
        from shop_common.dynamo import observe_boto3_client

        add_observer = getattr(client, "add_observer", None)
        if add_observer is not None:
            add_observer(self)
        else:
            observe_boto3_client(client, self)

    def detach(self, client: Any) -> None:
        from shop_common.dynamo import observe_boto3_client

        remove_observer = getattr(client, "remove_observer", None)
        if remove_observer is not None:
            remove_observer(self)
        else:
            observe_boto3_client(client, self, stop=True)

    def before_call(self, operation: str, params: Mapping[str, Any]) -> None:
        self.calls.append(Call(operation, dict(params)))

    def after_call(self, operation: str, parsed: Mapping[str, Any]) -> None:
        if "Items" in parsed:
            read = len(parsed["Items"])
        elif "Count" in parsed:  # a Query with Select=COUNT reads (and pays for) what it counts
            read = int(parsed["Count"])
        elif isinstance(parsed.get("Responses"), dict):  # BatchGetItem: items per table
            read = sum(len(items) for items in parsed["Responses"].values())
        elif isinstance(parsed.get("Responses"), list):  # TransactGetItems: one entry per Get
            read = sum(1 for response in parsed["Responses"] if response.get("Item"))
        else:
            read = 1 if "Item" in parsed else 0
        self.calls[-1].items_read = read

    def clear(self) -> None:
        self.calls.clear()

    @property
    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    @property
    def items_read(self) -> int:
        return sum(call.items_read for call in self.calls)
