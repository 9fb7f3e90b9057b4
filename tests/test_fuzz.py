"""schemathesis fuzzes the local server (what `make run` serves) from docs/openapi.json: the
public operations without a token; the operations that need a token without one, then with the
demo user's. Every check is on (tests/fuzz/schemathesis.toml says which are configured for
which operation, and why), a fixed number of requests generated deterministically. Not one 5xx,
not one response that breaks the document."""

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_server import LocalServer, start_server
from shoplocal.template import PROJECT_ROOT

CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"
DOCUMENT = PROJECT_ROOT / "docs" / "openapi.json"
DEMO_USER = ("demo", "demo-password")
# "POST /api/order": does the operation need a bearer token?
SIGNED_IN = {
    f"{method.upper()} {path}": bool(operation.get("security"))
    for path, methods in json.loads(DOCUMENT.read_text())["paths"].items()
    for method, operation in methods.items()
}
# Far fewer requests than this per operation means the run did not really fuzz (a server that
# stopped answering, a configuration that skips).
MIN_REQUESTS_PER_OPERATION = 10
# Without a token, an operation that needs one answers 401 whatever else is sent: a few examples
# check that (status, body, WWW-Authenticate, that the token is really required).
FEW_EXAMPLES = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    # An access token that outlives the run however slow the machine: a token that expired
    # halfway would turn the rest of the signed-in run into 401s.
    lifetime = "--parameter-overrides=AccessTokenLifetimeSeconds=3600"
    server = start_server(tmp_path_factory.mktemp("fuzz") / "data", lifetime)
    yield server
    server.stop()


def schemathesis(server: LocalServer, reports: Path, options: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", str(DOCUMENT)]
    command += ["--url", server.api_url, "--continue-on-failure", "--no-color"]
    command += ["--report", "json,har", "--report-dir", str(reports), *options]
    # Hypothesis's "data generation is too slow" check times the generator: on a loaded machine
    # it failed a run that found nothing wrong. How much is generated is bounded by the examples.
    command += ["--suppress-health-check", "too_slow"]
    # Its working directory is the test's own: nothing is left in the project.
    return subprocess.run(command, cwd=reports, capture_output=True, text=True, timeout=1800, check=False)


def report(reports: Path, kind: str) -> Any:
    (path,) = reports.glob(f"{kind}-*.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("needs_token", "with_token"),
    [(False, False), (True, False), (True, True)],
    ids=["public operations", "signed-in operations without a token", "signed-in operations with a token"],
)
def test_fuzzing_finds_no_server_error_and_no_response_outside_the_document(
    server: LocalServer, tmp_path: Path, needs_token: bool, with_token: bool
) -> None:
    operations = [name for name, needs in SIGNED_IN.items() if needs == needs_token]
    options = [option for name in operations for option in ("--include-name", name)]
    if needs_token and not with_token:
        options += ["--max-examples", str(FEW_EXAMPLES)]
    if with_token:
        (authorization,) = server.sign_in(*DEMO_USER).items()
        options += ["--header", ": ".join(authorization)]
    result = schemathesis(server, tmp_path, options)
    output = result.stdout[-20_000:]
    entries = report(tmp_path, "har")["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    summary = report(tmp_path, "json")
    print(f"{len(entries)} requests, statuses {dict(sorted(statuses.items()))}")  # for the -s reader
    assert not [status for status in statuses if status >= 500], output
    assert summary["failures"] == [], output
    assert summary["errors"] == [], output
    assert summary["operations"]["tested"] == len(operations), output
    assert len(entries) >= MIN_REQUESTS_PER_OPERATION * len(operations), output
    assert result.returncode == 0, output
