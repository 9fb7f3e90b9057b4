"""moto's DynamoDB items without moto's instance tracker.

Every moto model class appends each instance it ever creates to a class-wide list
(`instances_tracked`, for moto's server dashboard), and never lets go. For DynamoDB's `Item`
that is every item built by every request: each read builds new ones (projections, copies of a
Query's page), so a store that only answered reads kept growing, ~100 KB a products page
(121 MB to 439 MB over 3,000 pages). Items are values, not resources the dashboard lists: they
are created here without being tracked. The other DynamoDB models (tables, indexes, stream
shards) are created once per table and stay tracked.
"""

from typing import Any


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


def stop_tracking_items() -> None:
    """Idempotent: moto's `Item` (and its subclasses) no longer join `instances_tracked`, and the
    items it already holds there are released."""
    from moto.dynamodb.models.dynamo_type import Item

    if Item.__dict__.get("__new__") is not None and getattr(Item.__new__, "_untracked", False):
        return
    new = staticmethod(_untracked_new)
    _untracked_new._untracked = True  # type: ignore[attr-defined]
    Item.__new__ = new  # type: ignore[method-assign]
    Item.instances_tracked.clear()  # type: ignore[attr-defined]
