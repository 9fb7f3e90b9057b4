"""docs/scaling.md prices what bench/cost_model.py computes: its table and the mixed load's
figures are the model's output, so a change to the model (or to what a request reads and
writes) cannot leave the document stale."""

import re
import subprocess
import sys

from shoplocal.template import PROJECT_ROOT, load_template


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


def test_the_alarms_priced_are_the_templates() -> None:
    resources = load_template()["Resources"]
    alarms = [resource["Properties"] for resource in resources.values() if resource["Type"] == "AWS::CloudWatch::Alarm"]
    # An alarm on one metric bills that metric; an alarm on metric math bills each metric it reads.
    metrics = sum(sum("MetricStat" in query for query in alarm["Metrics"]) if "Metrics" in alarm else 1 for alarm in alarms)
    document = (PROJECT_ROOT / "docs" / "scaling.md").read_text()
    priced = re.search(r"\$0\.10 an alarm metric \((\d+) alarms on (\d+) metrics: \$([0-9.]+)\)", document)
    assert priced, "docs/scaling.md no longer prices the alarms"
    assert (int(priced[1]), int(priced[2]), priced[3]) == (len(alarms), metrics, f"{metrics * 0.10:.2f}")


def test_an_orders_write_units_count_every_index_copy_of_what_it_writes() -> None:
    """The order of one product writes the profile check, the stock, the order and its id guard
    (transactional: 2 WRU each), and the index copies (1 WRU each): the product in the catalogue
    index, the order in the all-orders index and in the customer's orders by status."""
    from shop_common.order_index import index_keys

    order_indexes = {name[:4] for name in index_keys(1, 7, "placed")}  # GSI1, GSI3
    expected = 2 * 4 + 1 + len(order_indexes)
    output = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "cost_model.py")], capture_output=True, text=True, check=True
    ).stdout
    (row,) = [line for line in output.splitlines() if line.startswith("| POST /api/order (1 product) |")]
    assert float(row.split("|")[4]) == expected
    assert f"One product: 2 + 2 + 2 + 2 + 1 + 1 + 1 = {expected} WRU" in (PROJECT_ROOT / "docs" / "scaling.md").read_text()
