"""Reading a catalogue file for `shopctl load-products`: CSV with a header row, or JSON (a list of
products, or an export's `{"products": [...]}`). Every row is checked on its own, so one bad row
is reported and skipped rather than stopping the load or writing half a product."""

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shoplocal.template import put_code_on_path

put_code_on_path()
from shop_common.catalog import add_products  # noqa: E402 - the layer is importable only after the line above
from shop_common.models import NewProduct, Product  # noqa: E402

BATCH_SIZE = 100  # products per id allocation (and per progress step)

FIELDS = ("name", "description", "price", "quantity_in_stock")


class ProductFileError(Exception):
    """The file as a whole cannot be read (missing, wrong format, no usable header)."""


@dataclass
class ParsedProducts:
    products: list[NewProduct] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "row N: field: message"


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = {"name", "price", "quantity_in_stock"} - set(header)
    if missing:
        raise ProductFileError(f"the CSV header must name the columns {', '.join(FIELDS)}; missing: {', '.join(sorted(missing))}")
    unknown = set(header) - set(FIELDS)
    if unknown:
        raise ProductFileError(f"unknown CSV columns: {', '.join(sorted(unknown))} (expected {', '.join(FIELDS)})")
    rows = []
    for raw in reader:
        row = {(key or "").strip(): value for key, value in raw.items() if key is not None}
        if None in raw:
            row["__extra__"] = raw[None]  # more cells than columns: reported as a row error
        rows.append(row)
    return rows


def _rows_from_json(text: str) -> list[Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProductFileError(f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from error
    if isinstance(document, dict) and isinstance(document.get("products"), list):
        document = document["products"]
    if not isinstance(document, list):
        raise ProductFileError('the JSON must be a list of products or an object with a "products" list')
    return document


def _check_row(number: int, row: Any, parsed: ParsedProducts) -> None:
    if not isinstance(row, dict):
        parsed.errors.append(f"row {number}: expected an object with {', '.join(FIELDS)}")
        return
    if "__extra__" in row:
        parsed.errors.append(f"row {number}: more cells than columns")
        return
    unknown = sorted(set(row) - set(FIELDS) - {"id"})  # ids are assigned by the catalogue; an export's are ignored
    if unknown:
        parsed.errors.append(f"row {number}: unknown fields: {', '.join(unknown)}")
        return
    values = {key: value for key, value in row.items() if key in FIELDS and value is not None}
    try:
        parsed.products.append(NewProduct.model_validate(values))
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "row"
            parsed.errors.append(f"row {number}: {where}: {problem['msg']}")


def read_products(path: Path) -> ParsedProducts:
    """The valid products of a CSV or JSON file, and a message for each invalid row.
    Rows are numbered from 1 (for a CSV, the first row after the header)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise ProductFileError(f"no such file: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ProductFileError(f"cannot read {path}: {error}") from error
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows: list[Any] = _rows_from_csv(text)
    elif suffix == ".json":
        rows = _rows_from_json(text)
    else:
        raise ProductFileError(f"{path.name}: expected a .csv or .json file")
    parsed = ParsedProducts()
    for number, row in enumerate(rows, start=1):
        _check_row(number, row, parsed)
    return parsed


def add_products_in_batches(products: Sequence[NewProduct], on_progress: Callable[[int], None]) -> list[Product]:
    """Add `products` in batches of BATCH_SIZE (consecutive ids, exact counts), reporting each."""
    added: list[Product] = []
    for start in range(0, len(products), BATCH_SIZE):
        batch = products[start : start + BATCH_SIZE]
        added += add_products(batch)
        on_progress(len(batch))
    return added
