"""`make help` is the first thing a new developer reads: it must show real values. `make reset`
asks before it deletes."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shoplocal.template import PROJECT_ROOT


def make_help(*assignments: str) -> str:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "--no-print-directory", "help", *assignments],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_help_shows_the_ports_not_make_variables() -> None:
    text = make_help()
    assert "$(" not in text
    assert "http://127.0.0.1:3000" in text
    assert "port 8000" in text


def test_help_shows_ports_given_on_the_command_line() -> None:
    text = make_help("API_PORT=3001", "DB_PORT=8001")
    assert "http://127.0.0.1:3001" in text
    assert "port 8001" in text


# --- the Makefiles `sam build` runs, and the SAM CLI's telemetry -------------------------------


def make(*arguments: str, env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("make")
    assert executable is not None
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [executable, "--no-print-directory", *arguments], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(("architecture", "platform"), [(None, "manylinux2014_aarch64"), ("x86_64", "manylinux2014_x86_64")])
def test_the_layer_takes_wheels_for_the_architecture(architecture: str | None, platform: str) -> None:
    """SAM tells a Makefile nothing of the template's Architecture: the environment does."""
    env = {"LAMBDA_ARCHITECTURE": architecture} if architecture else {}
    result = make(
        "-n", "-f", "Makefile", "build-CommonLayer", "ARTIFACTS_DIR=/nowhere", env=env, cwd=PROJECT_ROOT / "layers" / "common"
    )
    assert result.returncode == 0, result.stderr
    assert f"--platform {platform} " in result.stdout
    other = {"manylinux2014_aarch64", "manylinux2014_x86_64"} - {platform}
    assert not any(name in result.stdout for name in other)


def test_the_layer_refuses_an_architecture_lambda_has_not() -> None:
    result = make(
        "-n",
        "-f",
        "Makefile",
        "build-CommonLayer",
        "ARTIFACTS_DIR=/nowhere",
        env={"LAMBDA_ARCHITECTURE": "aarch64"},
        cwd=PROJECT_ROOT / "layers" / "common",
    )
    assert result.returncode != 0
    assert "LAMBDA_ARCHITECTURE must be arm64 or x86_64" in result.stderr


def test_the_docs_function_builds_with_a_python_that_lacks_swagger_ui(tmp_path: Path) -> None:
    """As plain `sam build` runs it (python3.12 from PATH, nothing installed): the package is
    found where the recipe's pip installed it, not where `make build`'s PATH had it already."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import swagger_ui_bundle"], capture_output=True, check=False).returncode != 0
    artifacts = tmp_path / "DocsFunction"
    functions = PROJECT_ROOT / "functions"
    result = make(
        "-f", str(functions / "Makefile"), "build-DocsFunction", f"ARTIFACTS_DIR={artifacts}", f"PYTHON={python}", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {path.name for path in (artifacts / "docs" / "assets").iterdir()} >= {
        "swagger-ui-bundle.js.gz",
        "index.html.gz",
        "openapi.json.gz",
    }
    assert not (artifacts / ".swagger-ui").exists()


def test_make_validate_sends_no_telemetry(tmp_path: Path) -> None:
    """Every sam command make runs has SAM_CLI_TELEMETRY=0, whatever the caller's environment."""
    sam_venv = tmp_path / "sam-venv"
    (sam_venv / "bin").mkdir(parents=True)
    fake_sam = sam_venv / "bin" / "sam"
    fake_sam.write_text('#!/bin/sh\necho "telemetry=${SAM_CLI_TELEMETRY-unset} $*"\n')
    fake_sam.chmod(0o755)
    (sam_venv / ".installed").touch()  # newer than requirements-sam.txt: nothing to install
    result = make("validate", f"SAM_VENV={sam_venv}", env={"SAM_CLI_TELEMETRY": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "telemetry=0 validate --lint"


def commands_of(*arguments: str) -> str:
    """What make would run (-n), counting the virtualenv and the docs page as built (-o)."""
    make = shutil.which("make")
    assert make is not None
    built = ["-o", ".venv/.installed", "-o", "functions/docs/assets/index.html.gz"]
    command = [make, "--no-print-directory", "-n", *built, *arguments]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=True).stdout


def test_run_and_reset_pass_the_django_database_on() -> None:
    for target in ("run", "reset"):
        assert '--django-db "backups/db.sqlite3"' in commands_of(target, "DJANGO_DB=backups/db.sqlite3")
        assert "--django-db" not in commands_of(target)


def test_make_reset_asks_before_deleting_the_local_data_and_force_does_not(tmp_path: Path) -> None:
    """Without a terminal to ask on and without FORCE=1, nothing is deleted and nothing starts."""
    make = shutil.which("make")
    assert make is not None
    data = tmp_path / "data"
    data.mkdir()
    (data / "kept").write_text("local data")
    environment = {**os.environ, "SHOP_DATA_DIR": str(data)}
    result = subprocess.run(
        [make, "--no-print-directory", "reset", "API_PORT=3799", "DB_PORT=8799"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0
    assert f"make reset deletes the local data ({data}): run it on a terminal to confirm, or with FORCE=1" in result.stderr
    assert (data / "kept").read_text() == "local data"
    planned = subprocess.run(
        [make, "--no-print-directory", "-n", "reset", "FORCE=1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "shoplocal.run --reset" in planned.stdout
