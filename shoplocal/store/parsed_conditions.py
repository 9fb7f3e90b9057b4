"""moto's condition expressions parsed once, not at every write.

moto parses a write's `ConditionExpression` from its text at every request, twice for each
item of a transaction (once to validate the request, once to apply it): a third of the CPU of
an import's transactions went to parsing `attribute_not_exists(PK)` again. The parse depends on
the expression and its names alone when it has no values, and moto evaluates the tree it gives
without changing it, so the tree of a successful parse of an expression without values is kept
(bounded, least recently used) and handed out again for the same two. Expressions with values
(a quantity, a cursor) are parsed each time: their values change from request to request, and
keeping them grew the store's memory under reads (tests/shoplocal/test_memory.py). A parse
that fails is not kept: the next request with the same expression fails the same way, with
moto's own error. Filter expressions of Query and Scan go through the same parser and cache.

Update expressions are parsed from their text alone (values are bound later, by moto's validator,
on a copy of the tree), twice per update: their trees are kept whatever the values (bounded,
least recently used). An order's stock updates parsed `SET quantity_in_stock = quantity_in_stock
- :quantity` at every order.
"""

import functools
import json
from collections import OrderedDict
from typing import Any

_KEPT = 128  # distinct expressions without values: the shop writes a few dozen kinds


class ParsedCondition:
    """What moto's `ConditionExpressionParser` offers its callers, from a parse kept earlier.
    The lists are fresh each time: moto's callers extend them in place."""

    def __init__(self, tree: Any, names_found: list[str], values_found: list[str]) -> None:
        self._tree = tree
        self.expr_attr_names_found = list(names_found)
        self.expr_attr_values_found = list(values_found)

    def parse(self) -> Any:
        return self._tree


class _Cache:
    def __init__(self, parser_class: Any) -> None:
        self.parser_class = parser_class
        self.kept: OrderedDict[str, tuple[Any, list[str], list[str]]] = OrderedDict()

    def parser(self, expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None) -> Any:
        if values:  # values change from request to request: kept, they would fill the cache
            return self.parser_class(expression, names, values)
        key = json.dumps([expression, names], sort_keys=True, separators=(",", ":"))
        kept = self.kept.get(key)
        if kept is None:
            parser = self.parser_class(expression, names, values)
            tree = parser.parse()  # raises as moto does: nothing kept
            kept = (tree, list(parser.expr_attr_names_found), list(parser.expr_attr_values_found))
            self.kept[key] = kept
            if len(self.kept) > _KEPT:
                self.kept.popitem(last=False)
        else:
            self.kept.move_to_end(key)
        return ParsedCondition(*kept)


def use_parsed_conditions() -> None:
    """Idempotent: moto's DynamoDB takes its condition parsers from the cache (every module that
    imported moto's factory by name)."""
    from moto.dynamodb import comparisons, models, responses

    original = comparisons.create_condition_expression_parser
    if getattr(original, "_cached", False):
        return
    cache = _Cache(comparisons.ConditionExpressionParser)

    @functools.wraps(original)
    def create_condition_expression_parser(
        expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None
    ) -> Any:
        return cache.parser(expression, names, values)

    create_condition_expression_parser._cached = True  # type: ignore[attr-defined]
    for module in (comparisons, models, responses):
        module.create_condition_expression_parser = create_condition_expression_parser  # type: ignore[attr-defined]


def use_parsed_update_expressions() -> None:
    """Idempotent: moto's `UpdateExpressionParser.make` keeps the trees it parsed. moto's
    validator copies a tree before it binds names and values to it, so a kept tree is never
    changed; a parse that fails raises moto's error and is not kept."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    if getattr(UpdateExpressionParser.make, "cache_info", None) is not None:
        return
    parse = UpdateExpressionParser.make

    @functools.lru_cache(maxsize=_KEPT)
    def make(expression: str) -> Any:
        return parse(expression)

    UpdateExpressionParser.make = staticmethod(make)
