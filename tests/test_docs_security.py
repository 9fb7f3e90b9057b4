"""docs/security.md's IAM table is the one template.yaml gives (shoplocal/iam_table.py)."""

from shoplocal import iam_table
from shoplocal.template import PROJECT_ROOT, functions


def test_the_iam_table_is_current() -> None:
    text = (PROJECT_ROOT / "docs" / "security.md").read_text()
    start, end = text.index(iam_table.BEGIN), text.index(iam_table.END) + len(iam_table.END)
    assert text[start:end] == iam_table.table(), "regenerate it: python -m shoplocal.iam_table"


def test_the_table_has_a_row_for_every_statement_of_every_function() -> None:
    rows = iam_table.rows()
    statements = sum(max(len(spec.policy_statements), 1) for spec in functions().values())
    assert len(rows) == statements
    for name, spec in functions().items():
        for statement in spec.policy_statements:
            assert any(row.startswith(f"| {name.removesuffix('Function')} | {statement['Sid']} |") for row in rows), statement[
                "Sid"
            ]
