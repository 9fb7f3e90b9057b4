"""DynamoDB requests read as moto reads them, with a walk compiled once per operation.

moto turns every request's JSON into its parameters by walking botocore's model of the
operation node by node (`moto.core.parse`): for each attribute value it looks up the handler of
each of the ten members `AttributeValue` could have, every time. That walk was a quarter of the
CPU of an import's transactions of 100 items. Here each shape's walk is compiled once into a
function that does the same conversions: a structure keeps the members its shape names and
drops nulls, lists and maps are walked member by member, blobs are base64-decoded, integers
and floats converted, timestamps read as moto reads them; strings and booleans are kept as
JSON gives them. A structure's members come out in the request's order rather than the
model's (a dict compares equal either way, and moto reads them by name). Anything but a JSON
body goes to moto's own parser.
"""

import functools
import json
from collections.abc import Callable
from typing import Any

Convert = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


class _Compiler:
    def __init__(self) -> None:
        from moto.core.parse import default_blob_parser, default_timestamp_parser

        self.blob = default_blob_parser
        self.timestamp = default_timestamp_parser
        self.compiled: dict[str, Convert] = {}

    def of(self, shape: Any) -> Convert:
        """The conversion of a value of this shape (recursive shapes: compiled once, by name)."""
        name = shape.name
        if name in self.compiled:
            return self.compiled[name]
        kind = shape.type_name
        if kind == "structure" and not getattr(shape, "is_document_type", False):
            members: dict[str, tuple[str, Convert]] = {}
            convert: Convert = lambda value: _structure(members, value)  # noqa: E731 - members filled below
            self.compiled[name] = convert
            for member_name, member in shape.members.items():
                members[member.serialization.get("name", member_name)] = (member_name, self.of(member))
            return convert
        if kind == "list":
            self.compiled[name] = convert = _list(self, shape)
            return convert
        if kind == "map":
            self.compiled[name] = convert = _map(self, shape)
            return convert
        convert = self._scalar(kind)
        self.compiled[name] = convert
        return convert

    def _scalar(self, kind: str) -> Convert:
        if kind == "blob":
            return self.blob
        if kind == "timestamp":
            return self.timestamp
        if kind in ("integer", "long", "byte", "short"):
            return int
        if kind in ("float", "double"):
            return float
        if kind == "boolean":
            return _boolean
        return _identity  # strings (DynamoDB has no JSON-value headers), documents


def _boolean(value: Any) -> Any:
    if value is True or value is False:
        return value
    try:
        return value.lower() == "true"
    except AttributeError:
        return value


def _structure(members: dict[str, tuple[str, Convert]], value: Any) -> Any:
    if value is None:
        return None
    parsed = {}
    for key, item in value.items():
        member = members.get(key)
        if member is not None and item is not None:
            parsed[member[0]] = member[1](item)
    return parsed


def _list(compiler: _Compiler, shape: Any) -> Convert:
    def convert(value: Any) -> Any:
        member = compiler.compiled.get(shape.member.name) or compiler.of(shape.member)
        return [member(item) for item in value]

    return convert


def _map(compiler: _Compiler, shape: Any) -> Convert:
    def convert(value: Any) -> Any:
        key = compiler.compiled.get(shape.key.name) or compiler.of(shape.key)
        member = compiler.compiled.get(shape.value.name) or compiler.of(shape.value)
        return {key(name): member(item) for name, item in value.items()}

    return convert


class RequestReader:
    """The parameters of DynamoDB requests, as moto's parser gives them."""

    def __init__(self) -> None:
        self._compiler = _Compiler()
        self._by_operation: dict[str, Convert] = {}

    def read(self, operation: str, body: bytes) -> dict[str, Any] | None:
        """The operation's parameters from its JSON body; None when moto's parser should read
        it (not a JSON object)."""
        convert = self._by_operation.get(operation)
        if convert is None:
            from moto.core.utils import get_service_model

            shape = get_service_model("dynamodb").operation_model(operation).input_shape
            if shape is None:
                return None
            convert = self._by_operation[operation] = self._compiler.of(shape)
        try:
            body_json = json.loads(body)
        except ValueError:
            return None  # moto's answer to a body that is not JSON
        if not isinstance(body_json, dict):
            return None
        parameters: dict[str, Any] = convert(body_json)
        return parameters


def use_direct_request_parsing() -> None:
    """Idempotent: moto's DynamoDB handler reads JSON requests with the compiled walks."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.parse_parameters
    if getattr(original, "_direct", False):
        return
    reader = RequestReader()

    @functools.wraps(original)
    def parse_parameters(self: Any, request: Any) -> None:
        parameters = None
        if (request.content_type or "").startswith("application/x-amz-json") and request.data:
            parameters = reader.read(self._get_action(), request.data)
        if parameters is None:
            return original(self, request)
        self.params = parameters
        return None

    parse_parameters._direct = True  # type: ignore[attr-defined]
    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign]
