"""docs/scaling.md prices what bench/cost_model.py computes: its table and the mixed load's
figures are the model's output, so a change to the model (or to what a request reads and
writes) cannot leave the document stale."""

import re
import subprocess
import sys

from shoplocal.template import PROJECT_ROOT


def test_the_cost_table_and_the_mixed_loads_figures_are_the_models_output() -> None:
    output = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "cost_model.py")], capture_output=True, text=True, check=True
    ).stdout
    document = (PROJECT_ROOT / "docs" / "scaling.md").read_text()
    table, mix = output.strip().split("\n\n")
    assert table in document
    figures = re.findall(r"\$[0-9.,]+ per million requests|\$[0-9,]+ a month|[0-9,]+ executions|[0-9,]+ [RW]RU/s", mix)
    assert len(figures) == 5, mix
    for figure in figures:
        assert figure in document, figure
