"""EventBridge's input paths parsed once each, not once per event and target.

moto's EventBridge builds a new JSONPath parser (its grammar tables included) for each of an
event's nine default input paths, for every target of every matching rule: ~1.2 ms a path, a
third of the store's CPU for a placed order under `make run` (the order's event reaches the
webhook queue through a rule). A parsed path is a value (finding matches does not change it),
so one parse per distinct path gives the same results.
"""

import functools
from typing import Any

_CACHED_PATHS = 256


def parse_input_paths_once() -> None:
    """Idempotent: moto's EventBridge reuses the parse of each input path it has seen."""
    import jsonpath_ng.ext

    original = getattr(jsonpath_ng.ext, "parse")  # noqa: B009 - not in the module's declared exports
    if getattr(original, "cache_info", None) is not None:
        return

    @functools.lru_cache(maxsize=_CACHED_PATHS)
    def parse(path: str, debug: bool | None = None) -> Any:
        return original(path, debug)

    # moto imports `parse` from the module inside the function that transforms an event, so
    # replacing the module's attribute reaches it.
    setattr(jsonpath_ng.ext, "parse", parse)  # noqa: B010
