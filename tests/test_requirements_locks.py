"""The hash locks the build installs from: every requirement pinned with `==` and its hashes, and
the runtime locks pinning exactly what the tests ran (the requirements.txt beside each)."""

import re
from pathlib import Path

import pytest

from shoplocal.template import PROJECT_ROOT

# A requirement line of a lock: `name==version \` followed by its `--hash=sha256:...` lines.
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)[^\n]*\n((?:\s+--hash=sha256:[0-9a-f]{64}[^\n]*\n)+)", re.M)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.M)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(path: Path) -> dict[str, str]:
    """{name: version} of every hashed entry; fails on a requirement line without hashes."""
    text = path.read_text()
    found = {normalised(name): version for name, version, _ in _ENTRY.findall(text)}
    requirement_lines = [line for line in text.splitlines() if line and not line[0].isspace() and not line.startswith("#")]
    assert len(requirement_lines) == len(found), f"{path.name}: a requirement without == or without hashes"
    return found


def pins(path: Path) -> dict[str, str]:
    return {normalised(name): version for name, version in _PIN.findall(path.read_text())}


@pytest.mark.parametrize("folder", ["layers/common", "functions/docs"])
def test_each_runtime_lock_pins_exactly_the_versions_the_tests_ran(folder: str) -> None:
    directory = PROJECT_ROOT / folder
    assert entries(directory / "requirements-lock.txt") == pins(directory / "requirements.txt")


def test_the_sam_cli_lock_is_complete_and_hashed() -> None:
    locked = entries(PROJECT_ROOT / "requirements-sam.txt")
    assert locked["aws-sam-cli"] == "1.170.0"
    assert {"aws-sam-translator", "cfn-lint", "boto3", "setuptools"} <= set(locked)


@pytest.mark.parametrize(
    ("makefile", "lock"),
    [("layers/common/Makefile", "requirements-lock.txt"), ("functions/docs/Makefile", "requirements-lock.txt")],
)
def test_sam_build_installs_from_the_locks_with_hashes_required(makefile: str, lock: str) -> None:
    installs = [line for line in (PROJECT_ROOT / makefile).read_text().splitlines() if "-r " in line]
    assert installs
    assert all("--require-hashes" in line and lock in line for line in installs), installs
    makefile_text = (PROJECT_ROOT / "Makefile").read_text()
    assert "--no-deps --require-hashes -r requirements-sam.txt" in makefile_text
