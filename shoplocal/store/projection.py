"""Projections in moto's DynamoDB at the cost of one conversion per item, not one per name.

moto projects an item (`ProjectionExpression`, an index's KEYS_ONLY or INCLUDE projection) by
converting the whole item to plain JSON once for every name projected, then back: a listing
page's keys-only index Query (five names per item) and its BatchGetItem (seven names per
product) spent most of their store time there. moto converts an item attribute by attribute, so
when every name is a top-level attribute (the functions' projections) only the named attributes
are converted, once; the result is the item moto builds (tests/shoplocal/store/test_moto_patches.py
compares both on random items and projections). Nested paths and list elements stay moto's.
"""

import functools
from typing import Any

_SAME_AFTER_CONVERSION = frozenset({"S", "BOOL", "NULL"})


def use_single_conversion_projections() -> None:
    """Idempotent: patch moto's `Item.project`."""
    from moto.dynamodb.models.dynamo_type import Item, deserializer, serializer

    if getattr(Item.project, "_single_conversion", False):
        return
    original = Item.project

    @functools.wraps(original)
    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 and not path[0].endswith("]") for path in projection_expressions):
            return original(self, projection_expressions)
        attributes: dict[str, Any] = {}
        for (name,) in projection_expressions:
            if name in self.attrs and name not in attributes:
                value = self.attrs[name]
                if value.type in _SAME_AFTER_CONVERSION:  # a string is the same string: no round trip
                    attributes[name] = {value.type: value.value}
                else:  # `Item.to_regular_json` and back, for this attribute (numbers and sets normalised)
                    attributes[name] = serializer.serialize(deserializer.deserialize(value.to_regular_json()))
        return Item(hash_key=self.hash_key, range_key=self.range_key, attrs=attributes)

    project._single_conversion = True  # type: ignore[attr-defined]
    Item.project = project  # type: ignore[method-assign]
