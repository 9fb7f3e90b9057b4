"""Lambda SnapStart: what a function prepares before its snapshot and refreshes after a restore.

With SnapStart (template parameter `SnapStart`), Lambda runs a function's init once when it
publishes a version, snapshots the memory, and resumes every new execution environment from that
snapshot. So the first request's slow work is done here before the snapshot: the DynamoDB and
Secrets Manager clients with their credentials and, where the function signs or verifies
tokens, the signing keys (the pydantic models and the resolver are built at import, which is in
the snapshot anyway). A SnapStart function gets its credentials from Lambda's container
credentials endpoint, not from variables, so its clients resolve them with botocore's provider
chain: importing it before the snapshot costs nothing at restore.

Everything in the snapshot is shared by every environment restored from it, possibly for days,
so after a restore:
- the signing keys are forgotten and re-read at first use: they may have rotated since;
- the clients are made anew: the restored environment has its own credentials, and the
  snapshot's connections are dead sockets;
- `random` is reseeded: the retry jitter draws from it, and identical jitter in every restored
  environment would retry in lockstep. Order ids and token ids come from `secrets` and
  `uuid.uuid4` (the kernel's generator, which the restore reseeds), never from a seeded PRNG.

`snapshot_restore_py` exists only in Lambda's Python runtime: elsewhere (tests, `make run`)
`register_hooks` registers nothing and the code runs as before.
"""

import os
import random
from collections.abc import Callable
from types import ModuleType

from shop_common import dynamo, secrets


def _runtime_hooks() -> ModuleType | None:
    try:
        import snapshot_restore_py  # type: ignore[import-not-found,unused-ignore]  # Lambda runtime only
    except ImportError:
        return None
    return snapshot_restore_py  # type: ignore[no-any-return,unused-ignore]


def _signs_tokens() -> bool:
    return bool(os.environ.get("JWT_SECRET_ID"))


def _new_clients() -> None:
    dynamo.forget_client()
    secrets.forget_client()
    lean = dynamo.client().lean  # type: ignore[attr-defined]
    if lean is not None:
        lean.credentials.frozen()  # resolved now, not on the first request


def before_snapshot() -> None:
    """Do the first request's slow work now, so the snapshot holds it."""
    _new_clients()
    if _signs_tokens():
        secrets.forget_signing_keys()
        secrets.signing_keys()


def after_restore() -> None:
    """Drop what this environment must not share with the others restored from the snapshot."""
    random.seed()  # from os.urandom
    secrets.forget_signing_keys()
    _new_clients()


def register_hooks(hooks: ModuleType | None = None) -> bool:
    """Register the hooks with the SnapStart runtime, if there is one; True when registered."""
    hooks = hooks or _runtime_hooks()
    if hooks is None:
        return False
    register_before: Callable[[Callable[[], None]], object] = hooks.register_before_snapshot
    register_after: Callable[[Callable[[], None]], object] = hooks.register_after_restore
    register_before(before_snapshot)
    register_after(after_restore)
    return True
