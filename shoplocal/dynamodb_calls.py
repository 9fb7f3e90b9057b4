"""Record the DynamoDB calls the code under test makes: operation, parameters, items read."""

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
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(Call(model.name, dict(params)))

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
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
