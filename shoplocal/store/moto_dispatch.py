"""moto's request dispatch without its per-request reflection.

For every request moto's server lists its own package folder (`os.listdir` and an `isdir` per
service, ~140 of them) to route by host, lists the response class's methods with
`inspect.getmembers`, and converts the action's name from camel case character by character.
None of these change while the server runs (the store's patches replace methods, never add
any), so each is worked out once: the SQS and EventBridge calls of a placed order spent a sixth
of the store's CPU there.
"""

import functools
from collections.abc import Iterable


def dispatch_without_reflection() -> None:
    """Idempotent: moto's routing and action lookup reuse what they worked out before."""
    from moto import backends
    from moto.core import responses

    if getattr(backends.list_of_moto_modules, "_once", False):
        return
    modules = tuple(backends.list_of_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    list_of_moto_modules._once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules
    # The action handlers of a response class, and an action's method name, by their inputs
    # (names moto's module imports from its utilities, so set on the module that uses them).
    for name, size in (("method_names_from_class", None), ("camelcase_to_underscores", 4096)):
        setattr(responses, name, functools.lru_cache(maxsize=size)(getattr(responses, name)))
