"""Where an order is listed besides its owner's partition, for staff (docs/data-model.md).

- GSI1PK = ORDERS#<status>#<shard>, GSI1SK = ORDER#<id, 16 digits>: all orders of one status,
  newest first, spread over SHARDS partitions so that no single index partition takes every
  order placed (a partition takes about 1,000 writes a second); a staff page merges them.
- GSI3PK = USERORDERS#<user>#<status>, GSI3SK = <id, 16 digits> (keys only): one user's orders
  of one status, for support.
A cancellation moves the order to the other status's partitions (its keys change with it).
"""

from typing import Literal

from shop_common.keys import order_sort_key

OrderStatus = Literal["placed", "cancelled"]
STATUSES: tuple[OrderStatus, ...] = ("placed", "cancelled")
SHARDS = 4
ALL_ORDERS_INDEX = "GSI1"
USER_STATUS_INDEX = "GSI3"


def status_partition(status: OrderStatus, shard: int) -> str:
    return f"ORDERS#{status}#{shard}"


def user_status_partition(user_id: int, status: OrderStatus) -> str:
    return f"USERORDERS#{user_id}#{status}"


def index_keys(order_id: int, user_id: int, status: OrderStatus) -> dict[str, str]:
    """The index attributes of an order in `status` (its id picks the shard: its low bits are
    random, so orders spread evenly)."""
    return {
        "GSI1PK": status_partition(status, order_id % SHARDS),
        "GSI1SK": order_sort_key(order_id),
        "GSI3PK": user_status_partition(user_id, status),
        "GSI3SK": f"{order_id:016d}",
    }
