"""GET /api/docs in a real headless Chromium, served by the local server `make run` starts: the
page renders every operation of docs/openapi.json, with nothing fetched from outside."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from headless_browser import chromium
from local_server import LocalServer, start_server
from shoplocal.template import PROJECT_ROOT

MAKE = shutil.which("make") or "make"
# Swagger UI marks each operation's summary with its method and path (data-path: the path as
# written, without the zero-width spaces it inserts into the visible text for line breaks).
OPERATIONS = """Array.from(document.querySelectorAll('.opblock-summary')).map(summary => [
  summary.querySelector('.opblock-summary-method').textContent.trim(),
  summary.querySelector('.opblock-summary-path').getAttribute('data-path'),
])"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    # The working tree's assets as `make run` assembles them, from the current docs/openapi.json.
    subprocess.run(
        [MAKE, "--no-print-directory", "-f", "functions/docs/Makefile", "assets", f"PYTHON={sys.executable}"],
        cwd=PROJECT_ROOT,
        check=True,
        timeout=300,
    )
    running = start_server(tmp_path_factory.mktemp("docs") / "data")
    yield running
    running.stop()


def documented_operations() -> set[tuple[str, str]]:
    document = json.loads((PROJECT_ROOT / "docs" / "openapi.json").read_text())
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def test_the_docs_page_renders_every_operation_with_nothing_from_outside(server: LocalServer) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.send("Page.navigate", url=f"{server.api_url}/api/docs")
        expected = documented_operations()
        page.wait_for(f"{OPERATIONS}.length >= {len(expected)}", f"{len(expected)} operations on the page")
        shown = {(method, path) for method, path in page.evaluate(OPERATIONS)}
        assert shown == expected
        title = page.wait_for("document.querySelector('.info .title')?.textContent", "the API's title")
        assert title.startswith("Serverless shop API")
        urls = page.requested_urls
        assert f"{server.api_url}/api/openapi.json" in urls
        assert all(url.startswith((f"{server.api_url}/api/", "data:")) for url in urls), urls


def test_the_page_and_its_files_are_served_gzipped_to_browsers(server: LocalServer) -> None:
    for path in ("/api/docs", "/api/docs/swagger-ui-bundle.js", "/api/docs/swagger-ui.css", "/api/openapi.json"):
        reply = server.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert reply.status == 200, (path, reply.body[:200])
        assert reply.headers["content-encoding"] == "gzip", path
        assert reply.body[:2] == b"\x1f\x8b", path
    plain = server.request("GET", "/api/openapi.json")
    assert plain.status == 200
    assert "content-encoding" not in plain.headers
    assert plain.body == Path(PROJECT_ROOT / "docs" / "openapi.json").read_bytes()
