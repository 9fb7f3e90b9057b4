"""SnapStart readiness: every handler registers the layer's before-snapshot and after-restore
hooks, which Lambda runs when the template parameter `SnapStart` is `PublishedVersions`
(tests/test_versions.py checks the template; docs/performance.md#snapstart)."""

import json
import os
import subprocess
import sys
import textwrap

from shoplocal.template import PROJECT_ROOT, functions

FUNCTIONS_USING_THE_LAYER = [
    "AuthFunction",
    "ProductsFunction",
    "OrdersFunction",
    "CatalogAdminFunction",
    "StaffUsersFunction",
    "OffersFunction",
    "EventsFunction",
    "WebhooksFunction",
    "WebhookSenderFunction",
]


def test_every_handler_registers_the_snapstart_hooks() -> None:
    # A fresh interpreter with a stand-in for the runtime's module, as Lambda imports a handler.
    modules = [functions()[name].module for name in FUNCTIONS_USING_THE_LAYER]
    script = textwrap.dedent(
        f"""
        import importlib, json, sys, types
        registered = []
        runtime = types.ModuleType("snapshot_restore_py")
        runtime.register_before_snapshot = lambda hook: registered.append(("before", hook.__qualname__))
        runtime.register_after_restore = lambda hook: registered.append(("after", hook.__qualname__))
        sys.modules["snapshot_restore_py"] = runtime
        counts = {{}}
        for module in {modules!r}:
            registered.clear()
            importlib.import_module(module)
            counts[module] = list(registered)
        print(json.dumps(counts))
        """
    )
    path = [PROJECT_ROOT / "layers" / "common", *(functions()[name].code_dir for name in FUNCTIONS_USING_THE_LAYER)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(folder) for folder in path)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    registrations = json.loads(result.stdout.strip().splitlines()[-1])
    expected = [["before", "before_snapshot"], ["after", "after_restore"]]
    assert registrations == {module: expected for module in modules}
