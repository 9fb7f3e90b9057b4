"""Lambda "containers" in one process: each function keeps warm copies of its handler module.

Lambda runs one request at a time per container and starts more containers for concurrent
requests. Here a container is a private copy of the handler module (its resolver, logger and
metrics are module globals that hold per-request state), so concurrent requests never share
one; the modules it imports (its own logic, the layer) are shared, as read-only code is.
"""

import importlib.util
import itertools
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoplocal.gateway.invoke import Handler, LambdaContext
from shoplocal.template import FunctionSpec

_environment_lock = threading.Lock()
_container_numbers = itertools.count(1)


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Apply a function's own variables while its module is imported (powertools reads the
    service name and log level then). Only values that differ between functions change."""
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _load_private_copy(spec: FunctionSpec) -> Handler:
    module_name = f"{spec.module}__container{next(_container_numbers)}"
    module_spec = importlib.util.spec_from_file_location(module_name, spec.code_dir / f"{spec.module}.py")
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.handler} from {spec.code_dir}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, spec.function_name)
    return handler


@dataclass
class _Pool:
    idle: list[Handler] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Invocation:
    result: Any
    cold_start: bool


class Containers:
    """Warm handler copies per function, created on demand (a cold start) and reused after."""

    def __init__(self, specs: Mapping[str, FunctionSpec], environments: Mapping[str, Mapping[str, str]]) -> None:
        self._specs = dict(specs)
        self._environments = {name: dict(env) for name, env in environments.items()}
        self._pools = {name: _Pool() for name in specs}

    def _take(self, logical_id: str) -> tuple[Handler, bool]:
        pool = self._pools[logical_id]
        with pool.lock:
            if pool.idle:
                return pool.idle.pop(), False
        spec = self._specs[logical_id]
        with _environment(self._environments.get(logical_id, {})):
            return _load_private_copy(spec), True

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        handler, cold = self._take(logical_id)
        try:
            result = handler(event, LambdaContext(logical_id))
        finally:
            with self._pools[logical_id].lock:
                self._pools[logical_id].idle.append(handler)
        return Invocation(result, cold)


def forget_modules_under(folders: list[Path]) -> list[str]:
    """Drop every imported module whose file lies in `folders`, so the next import reads the
    code afresh (the equivalent of new containers after a deployment). Returns their names."""
    roots = [folder.resolve() for folder in folders]
    stale = []
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None)
        if location and any(Path(location).resolve().is_relative_to(root) for root in roots):
            stale.append(name)
    for name in stale:
        sys.modules.pop(name, None)
    return stale
