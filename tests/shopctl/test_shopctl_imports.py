"""`shopctl` shares code with the functions only through the layer: it imports no function's
package (a function's modules are its own, deployed with it alone), and has no import loop."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from shoplocal.template import PROJECT_ROOT

SHOPCTL = PROJECT_ROOT / "shopctl"
FUNCTIONS = PROJECT_ROOT / "functions"
FUNCTION_PACKAGES = {path.parent.name for path in FUNCTIONS.glob("*/__init__.py")}


def imported_modules(source: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function (absolute names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_function_packages_are_the_template_s() -> None:
    from shoplocal.template import functions

    assert {spec.package for spec in functions().values()} == FUNCTION_PACKAGES


def test_no_shopctl_module_names_a_function_package() -> None:
    for source in sorted(SHOPCTL.glob("*.py")):
        named = {name.partition(".")[0] for name in imported_modules(source)}
        assert not named & FUNCTION_PACKAGES, f"{source.name} imports {sorted(named & FUNCTION_PACKAGES)}"


def test_shopctl_modules_import_each_other_without_a_loop() -> None:
    graph = {
        f"shopctl.{source.stem}": {name for name in imported_modules(source) if name.startswith("shopctl.")}
        for source in SHOPCTL.glob("*.py")
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        assert module not in visiting, " -> ".join([*visiting[visiting.index(module) :], module])
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(graph.get(module, ())):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_importing_all_of_shopctl_loads_no_function_code_and_puts_no_function_folder_on_the_path() -> None:
    """What runs, not what is written: every shopctl module imported in a fresh interpreter."""
    script = (
        "import importlib, json, pkgutil, sys, shopctl\n"
        "for module in pkgutil.iter_modules(shopctl.__path__):\n"
        "    importlib.import_module(f'shopctl.{module.name}')\n"
        "files = [getattr(module, '__file__', None) or '' for module in list(sys.modules.values())]\n"
        "print(json.dumps({'files': files, 'path': sys.path}))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
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
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert any(file.startswith(str(PROJECT_ROOT / "layers")) for file in loaded["files"])  # the layer is what it shares
    assert [file for file in loaded["files"] if file.startswith(str(FUNCTIONS))] == []
    assert [entry for entry in loaded["path"] if Path(entry).resolve() == FUNCTIONS.resolve()] == []
