"""docs/events.md's cost table is what bench/event_costs.py computes (the model's output, not a
copy), and the model prices more endpoints and slower receivers higher."""

import re
import subprocess
import sys

from shoplocal.template import PROJECT_ROOT


def model(*arguments: str) -> str:
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "event_costs.py"), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def total(table: str, column: int) -> float:
    (row,) = [line for line in table.splitlines() if "**total**" in line]
    return float(row.split("|")[column + 2].strip(" *$"))


def test_the_documented_costs_are_the_models() -> None:
    text = (PROJECT_ROOT / "docs" / "events.md").read_text()
    (documented,) = re.findall(r"<!-- event-costs -->\n(.*?)\n<!-- /event-costs -->", text, re.DOTALL)
    assert documented == model(), "docs/events.md is stale: paste `python bench/event_costs.py`"


def test_more_endpoints_and_slower_receivers_cost_more() -> None:
    none, one, three, slow = model("--endpoints", "0"), model(), model("--endpoints", "3"), model("--receiver-ms", "1000")
    for column in (0, 1):
        assert total(none, column) < total(one, column) < total(three, column)
        assert total(one, column) < total(slow, column)
