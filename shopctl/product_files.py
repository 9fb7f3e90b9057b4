"""Reading a catalogue file for `shopctl load-products`: CSV with a header row, or JSON (a list of
products, or `{"products": [...]}`).

Every row is checked on its own, as the catalogue checks products, and each bad row is reported
once, with all its problems, where an editor finds it: a CSV row by its line number (the header
is line 1; a row with a quoted line break is named by its first line), a JSON row as `item N`,
its position in the list counted from 1. The caller writes nothing when any row is bad.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shoplocal.template import put_layers_on_path

put_layers_on_path()
from shop_common.models import NewProduct  # noqa: E402 - the layer is importable only after the line above

FIELDS = ("sku", "name", "description", "price", "quantity")
REQUIRED_FIELDS = ("name", "price", "quantity")
# Names files written for earlier versions use: read as the field named here.
OLD_NAMES = {"quantity_in_stock": "quantity"}
# Ids are the catalogue's to assign: a file that names them would silently add copies on a reload.
_ID_PROBLEM = "ids are assigned by the catalogue: give products a sku column to update them on a reload"


class ProductFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, no usable header)."""


@dataclass(frozen=True)
class ProductRow:
    where: str  # "line 3" (CSV) or "item 3" (JSON)
    product: NewProduct


@dataclass(frozen=True)
class _Unsplit:
    """A row the file's parser could not split into fields, and why."""

    problem: str


@dataclass
class ParsedProducts:
    rows: list[ProductRow] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # one message per rejected row: "line 3: price: ..."


def _rows_from_csv(text: str) -> list[tuple[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [_current_name(name.strip()) for name in next(reader, [])]
        missing = [name for name in REQUIRED_FIELDS if name not in header]
        if missing:
            separators = [name for mark, name in ((";", "semicolons"), ("\t", "tabs")) if len(header) == 1 and mark in header[0]]
            hint = f" (the columns seem separated by {separators[0]}: this command reads commas)" if separators else ""
            raise ProductFileError(
                f"line 1, the header, must name the columns {', '.join(REQUIRED_FIELDS)} "
                f"(and optionally description, sku); missing: {', '.join(missing)}{hint}"
            )
        if "id" in header:
            raise ProductFileError(f"the CSV has an id column: {_ID_PROBLEM}")
        unknown = sorted(set(header) - set(FIELDS))
        if unknown:
            raise ProductFileError(f"unknown CSV columns: {', '.join(unknown)} (expected {', '.join(FIELDS)})")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise ProductFileError(f"columns named twice in the header: {', '.join(repeated)}")
        rows: list[tuple[str, Any]] = []
        while True:
            first_line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return rows
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(cells) != len(header):
                rows.append((f"line {first_line}", _Unsplit(f"{len(cells)} cells for {len(header)} columns")))
                continue
            rows.append((f"line {first_line}", {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    except csv.Error as error:
        raise ProductFileError(f"line {reader.line_num}: not valid CSV: {error}") from error


def _rows_from_json(text: str) -> list[tuple[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProductFileError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from error
    except RecursionError as error:
        raise ProductFileError("not valid JSON: nested too deeply") from error
    if isinstance(document, dict) and isinstance(document.get("products"), list):
        document = document["products"]
    if not isinstance(document, list):
        raise ProductFileError('the JSON must be a list of products or an object with a "products" list')
    return [(f"item {position}", row) for position, row in enumerate(document, start=1)]


def _current_name(name: str) -> str:
    return OLD_NAMES.get(name, name)


def _check_row(where: str, row: Any) -> ProductRow | str:
    """The row's product, or one message naming every problem of the row."""
    if isinstance(row, _Unsplit):
        return f"{where}: {row.problem}"
    if not isinstance(row, dict):
        return f"{where}: expected an object with the fields {', '.join(FIELDS)}"
    renamed = {_current_name(key) for key in row}
    if len(renamed) < len(row):
        return f"{where}: the stock is given twice (quantity and its old name, quantity_in_stock): give it once"
    row = {_current_name(key): value for key, value in row.items()}
    if "id" in row:
        return f"{where}: id: {_ID_PROBLEM}"
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        return f"{where}: unknown fields: {', '.join(unknown)} (expected {', '.join(FIELDS)})"
    values = {key: value for key, value in row.items() if key in FIELDS and value is not None}
    if values.get("sku") == "":
        del values["sku"]  # an empty cell: no SKU, the row adds a product
    try:
        return ProductRow(where, NewProduct.model_validate(values))
    except ValidationError as error:
        problems = [f"{'.'.join(str(part) for part in problem['loc']) or 'row'}: {problem['msg']}" for problem in error.errors()]
        return f"{where}: {'; '.join(problems)}"


def read_products(path: Path) -> ParsedProducts:
    """Every row of a CSV or JSON file, checked: the products, and a message per rejected row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ProductFileError(f"no such file: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ProductFileError(f"cannot read {path}: {error}") from error
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw_rows = _rows_from_csv(text)
    elif suffix == ".json":
        raw_rows = _rows_from_json(text)
    else:
        raise ProductFileError(f"{path.name}: expected a .csv or .json file")
    parsed = ParsedProducts()
    sku_rows: dict[str, str] = {}  # where each SKU was first seen
    for where, raw in raw_rows:
        checked = _check_row(where, raw)
        if isinstance(checked, str):
            parsed.rejected.append(checked)
        elif checked.product.sku in sku_rows:
            parsed.rejected.append(f"{where}: sku: {checked.product.sku!r} is already used by {sku_rows[checked.product.sku]}")
        else:
            if checked.product.sku is not None:
                sku_rows[checked.product.sku] = where
            parsed.rows.append(checked)
    return parsed
