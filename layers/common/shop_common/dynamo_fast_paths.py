"""Faster request validation and response parsing for the DynamoDB client, through botocore's
public event hooks, with botocore's results and errors unchanged.

botocore validates every request and parses every response by walking the service model shape
by shape for every value; for a page of 50 items that walk was two thirds of a request's CPU.
Here each shape is compiled once into a small Python function, and:

- `before-parameter-build` (registered last, so it sees the final parameters): the compiled
  check accepts what botocore's validator surely accepts. Anything else (a wrong type, a
  missing field, a shape it does not handle) goes to botocore's own validator, which raises the
  very `ParamValidationError` it always did. The client is created with botocore's validation
  off (`Config(parameter_validation=False)`), so valid requests are checked once, here. (This
  runs before endpoint resolution, which botocore does before validating: a non-string
  `TableName` is now a `ParamValidationError` rather than an `EndpointResolutionError`.)
- `before-parse`: a successful response's JSON is converted by the compiled shape into exactly
  what botocore's parser returns, handed back in `customized_response_dict` (which botocore
  merges into its result), and the body botocore would parse again is emptied. Errors
  (status >= 301), bodies that are not a JSON object, and operations whose output has shapes
  this does not handle (timestamps, documents, unions, renamed members, event streams) are
  left entirely to botocore, so error codes, `CancellationReasons` and retries are untouched.
- `request_body` (used by the lean request path, `dynamo_wire`): the JSON bytes botocore's
  serializer sends for valid parameters, from each input shape compiled once.
"""

import base64
import json
import threading
from collections.abc import Callable
from decimal import Decimal
from itertools import chain
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import validate_parameters

Check = Callable[[Any], bool]
Convert = Callable[[Any], Any]

_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (float, Decimal, int),
    "float": (float, Decimal, int),
}
# A converter that returns the JSON value as it is (strings, numbers, booleans).
_KEEP: Convert = lambda value: value  # noqa: E731


def _never(_: Any) -> bool:
    return False


def _min_of(shape: Shape) -> int | float | None:
    """The lower bound botocore's validator enforces: a length for strings and lists, a value
    for numbers (it checks none for maps)."""
    if "min" in shape.metadata:
        minimum: int | float = shape.metadata["min"]
        return minimum
    if shape.serialization.get("hostLabel"):
        return 1
    return None


class _Compiler:
    """Compiles shapes into checks and converters, once per shape (recursive shapes included
    through forward references). Not thread-safe: DynamoFastPaths calls it under its lock."""

    def __init__(self, *, without_nulls: bool = False) -> None:
        # Converters for bodies known to hold no JSON null may check maps of attribute values
        # with a few C-level passes instead of one Python test per attribute.
        self._without_nulls = without_nulls
        self._checks: dict[str, Check] = {}
        self._converters: dict[str, Convert | None] = {}
        self._kept_members: dict[str, frozenset[str]] = {}  # per structure: members parsed as they are

    # --- request validation ----------------------------------------------------------------

    def check(self, shape: Shape) -> Check:
        if shape.name in self._checks:
            return self._checks[shape.name]
        forward: list[Check] = []
        self._checks[shape.name] = lambda value: forward[0](value)  # for recursive shapes
        compiled = self._compile_check(shape)
        forward.append(compiled)
        self._checks[shape.name] = compiled
        return compiled

    def _compile_check(self, shape: Shape) -> Check:
        kind = shape.type_name
        serialization = shape.serialization
        if serialization.get("jsonvalue") or "union" in shape.metadata or "document" in shape.metadata:
            return _never
        minimum = _min_of(shape)
        if isinstance(shape, StructureShape):
            return self._check_structure(shape)
        if isinstance(shape, ListShape):
            return self._check_list(shape, minimum)
        if isinstance(shape, MapShape):
            return self._check_map(shape)
        if kind == "blob":
            return lambda value: isinstance(value, bytes | bytearray | str) or hasattr(value, "read")
        if kind not in _SCALAR_TYPES:
            return _never  # timestamps: botocore decides
        types = _SCALAR_TYPES[kind]
        if minimum is None or kind == "boolean":
            return lambda value: isinstance(value, types)
        if kind == "string":
            return lambda value: isinstance(value, str) and len(value) >= minimum
        return lambda value: isinstance(value, types) and _at_least(value, minimum)

    def _check_structure(self, shape: StructureShape) -> Check:
        if shape.is_document_type:
            return _never
        members = {name: self.check(member) for name, member in shape.members.items()}
        required = tuple(shape.required_members)
        # Members that are a plain type check (most attribute values' {"S": ...}), done inline.
        typed = {
            name: _SCALAR_TYPES[member.type_name]
            for name, member in shape.members.items()
            if member.type_name in _SCALAR_TYPES and _min_of(member) is None and not member.serialization.get("jsonvalue")
        }

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return False
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                types = typed.get(name)
                if types is not None:
                    if not isinstance(item, types):
                        return False
                    continue
                member = members.get(name)
                if member is None or not member(item):
                    return False
            return True

        return check

    def _check_list(self, shape: ListShape, minimum: int | float | None) -> Check:
        member = self.check(shape.member)

        def check_list(value: Any) -> bool:
            if not isinstance(value, list | tuple) or (minimum is not None and len(value) < minimum):
                return False
            return all(member(item) for item in value)

        return check_list

    def _check_map(self, shape: MapShape) -> Check:
        key, item = self.check(shape.key), self.check(shape.value)
        # A map of plain-string keys to structures of one text member each ({"S": ...},
        # {"N": ...}: item keys, most attribute values) is recognised in C first.
        texts = _text_members(shape.value) if _is_plain_text(shape.key) else frozenset()

        def check_map(value: Any) -> bool:
            # botocore reports no length errors for maps: `minimum` is not its to enforce here.
            if not isinstance(value, dict):
                return False
            if texts:
                entries = value.values()
                if (
                    set(map(type, entries)) == _ONLY_DICTS
                    and set(map(len, entries)) == _ONLY_ONE
                    and texts.issuperset(chain.from_iterable(entries))
                    and set(map(type, chain.from_iterable(map(dict.values, entries)))) == _ONLY_STR
                    and set(map(type, value)) == _ONLY_STR
                ):
                    return True
            return all(key(name) and item(entry) for name, entry in value.items())

        return check_map

    # --- response parsing ------------------------------------------------------------------

    def converter(self, shape: Shape) -> Convert | None:
        """A function turning the JSON value of `shape` into botocore's parsed value, or None
        when the shape holds something only botocore's parser should handle."""
        if shape.name in self._converters:
            return self._converters[shape.name]
        forward: list[Convert] = []
        self._converters[shape.name] = lambda value: forward[0](value)  # for recursive shapes
        compiled = self._compile_converter(shape)
        self._converters[shape.name] = compiled
        if compiled is not None:
            forward.append(compiled)
        return compiled

    def _compile_converter(self, shape: Shape) -> Convert | None:
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            return self._convert_structure(shape)
        if isinstance(shape, ListShape):
            member = self.converter(shape.member)
            if member is None:
                return None
            if member is _KEEP:
                return lambda value: [item for item in value]
            return lambda value: [None if item is None else member(item) for item in value]
        if isinstance(shape, MapShape):
            key, item = self.converter(shape.key), self.converter(shape.value)
            if key is not _KEEP or item is None:
                return None
            kept = self._kept_members.get(shape.value.name)
            if kept is None:
                return lambda value: {name: item(entry) for name, entry in value.items()}
            return _map_of_structures(item, kept, without_nulls=self._without_nulls)
        if kind == "blob":
            return base64.b64decode
        if kind in _SCALAR_TYPES:
            return _KEEP
        return None  # timestamps and anything newer

    def _convert_structure(self, shape: StructureShape) -> Convert | None:
        if shape.is_document_type or shape.is_tagged_union:
            return None
        members: dict[str, Convert] = {}
        for name, member_shape in shape.members.items():
            if "name" in member_shape.serialization or member_shape.serialization.get("eventstream"):
                return None
            converter = self.converter(member_shape)
            if converter is None:
                return None
            members[name] = converter
        order = tuple(members)
        # Members whose JSON value is already the parsed value: a one-member object of these
        # (most attribute values: {"S": ...}, {"N": ...}) is its own parsed form.
        kept = frozenset(name for name, converter in members.items() if converter is _KEEP)
        self._kept_members[shape.name] = kept

        def convert(value: Any) -> Any:
            if value is None:
                return None
            if len(value) == 1:
                for name, raw in value.items():
                    if name in kept:
                        return value if raw is not None else {}
                    converter = members.get(name)
                    return {} if converter is None or raw is None else {name: converter(raw)}
            parsed = {}
            for name in order:  # members in the model's order, as botocore's parser
                raw = value.get(name)
                if raw is not None:
                    parsed[name] = members[name](raw)
            return parsed

        return convert


def _map_of_structures(item: Convert, kept: frozenset[str], *, without_nulls: bool) -> Convert:
    """A map of structures (an item's attributes). Entries of one member parsed as it is
    ({"S": ...}, {"N": ...}) stay as they are; the rest are converted. Without nulls in the
    body, a map of only such entries is recognised in C: all dicts, one key each, all kept."""

    def convert_map(value: Any) -> Any:
        entries = value.values()
        if (
            without_nulls
            and set(map(type, entries)) == _ONLY_DICTS
            and set(map(len, entries)) == _ONLY_ONE
            and kept.issuperset(chain.from_iterable(entries))
        ):
            return value
        converted: dict[str, Any] | None = None
        for name, entry in value.items():
            if type(entry) is dict and len(entry) == 1 and entry.keys() <= kept and None not in entry.values():
                continue
            parsed = item(entry)
            if converted is None:
                converted = dict(value)
            converted[name] = parsed
        return value if converted is None else converted

    return convert_map


_ONLY_DICTS = {dict}
_ONLY_STR = {str}
_ONLY_ONE = {1}


class _Encoder:
    """Compiles input shapes into functions building the JSON value botocore's JSON serializer
    builds from valid parameters: the parameters themselves, blobs in base64. None for shapes
    left to botocore (timestamps, floats, documents, renamed members)."""

    def __init__(self) -> None:
        self._encoders: dict[str, Convert | None] = {}
        self._kept_members: dict[str, frozenset[str]] = {}  # per structure: members sent as they are

    def encoder(self, shape: Shape) -> Convert | None:
        if shape.name in self._encoders:
            return self._encoders[shape.name]
        forward: list[Convert] = []
        self._encoders[shape.name] = lambda value: forward[0](value)  # for recursive shapes
        compiled = self._compile(shape)
        self._encoders[shape.name] = compiled
        if compiled is not None:
            forward.append(compiled)
        return compiled

    def _compile(self, shape: Shape) -> Convert | None:
        kind = shape.type_name
        if shape.serialization.get("jsonvalue") or "union" in shape.metadata or "document" in shape.metadata:
            return None
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        if isinstance(shape, ListShape):
            member = self.encoder(shape.member)
            if member is None:
                return None
            return _KEEP if member is _KEEP else lambda value: [member(item) for item in value]
        if isinstance(shape, MapShape):
            item = self.encoder(shape.value)
            if item is None:
                return None
            if item is _KEEP:
                return _KEEP
            kept = self._kept_members.get(shape.value.name)
            return _encode_map(item, kept) if kept else lambda value: {name: item(entry) for name, entry in value.items()}
        if kind == "blob":
            return _base64
        if kind in ("string", "integer", "long", "boolean"):
            return _KEEP
        return None  # timestamps, floats and anything newer: botocore serialises them

    def _structure(self, shape: StructureShape) -> Convert | None:
        if shape.is_document_type:
            return None
        members: dict[str, Convert] = {}
        for name, member_shape in shape.members.items():
            if "name" in member_shape.serialization:
                return None
            encoder = self.encoder(member_shape)
            if encoder is None:
                return None
            members[name] = encoder
        if all(encoder is _KEEP for encoder in members.values()):
            return _KEEP
        kept = frozenset(name for name, encoder in members.items() if encoder is _KEEP)
        self._kept_members[shape.name] = kept

        def encode(value: Any) -> Any:
            if len(value) == 1 and value.keys() <= kept:  # most attribute values: {"S": ...}
                return value
            return {name: members[name](item) for name, item in value.items()}

        return encode


def _encode_map(item: Convert, kept: frozenset[str]) -> Convert:
    """A map of structures (an item): sent as it is when every entry is one member sent as it
    is ({"S": ...}, {"N": ...}), recognised in C; else entry by entry."""

    def encode_map(value: Any) -> Any:
        entries = value.values()
        if (
            set(map(type, entries)) == _ONLY_DICTS
            and set(map(len, entries)) == _ONLY_ONE
            and kept.issuperset(chain.from_iterable(entries))
        ):
            return value
        return {name: item(entry) for name, entry in value.items()}

    return encode_map


def _base64(value: Any) -> str:
    """botocore's `_get_base64`: text is encoded as UTF-8 first."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


def _is_plain_text(shape: Shape) -> bool:
    """A string shape botocore's validator checks for type only."""
    return shape.type_name == "string" and _min_of(shape) is None and not shape.serialization.get("jsonvalue")


def _text_members(shape: Shape) -> frozenset[str]:
    if not isinstance(shape, StructureShape) or shape.is_document_type or shape.is_tagged_union or shape.required_members:
        return frozenset()
    return frozenset(name for name, member in shape.members.items() if _is_plain_text(member))


def _at_least(value: Any, minimum: int | float) -> bool:
    try:
        return bool(value >= minimum)
    except Exception:  # e.g. Decimal("NaN"): botocore's validator reports it
        return False


class DynamoFastPaths:
    """The two event handlers; `install` registers them on a DynamoDB client's events.

    Each operation's check and converter are compiled at its first use, under a lock (the
    local server calls handlers from several threads), and published only when complete."""

    def __init__(self) -> None:
        self._compiler = _Compiler()
        self._compiler_without_nulls = _Compiler(without_nulls=True)
        self._lock = threading.Lock()
        self._inputs: dict[str, Check] = {}
        self._outputs: dict[tuple[str, bool], Convert | None] = {}
        self._encoder = _Encoder()
        self._bodies: dict[str, Convert | None] = {}

    def request_body(self, model: OperationModel, params: dict[str, Any]) -> bytes | None:
        """The JSON body botocore's serializer would send for these (valid) parameters, or None
        when the operation's input holds shapes only botocore serialises."""
        if model.name not in self._bodies:
            with self._lock:
                shape = model.input_shape
                self._bodies[model.name] = self._encoder.encoder(shape) if shape is not None else None
        encode = self._bodies[model.name]
        if encode is None:
            return None
        return json.dumps(params if encode is _KEEP else encode(params)).encode("utf-8")

    def install(self, events: Any) -> None:
        events.register_last("before-parameter-build.dynamodb", self.validate)
        events.register("before-parse.dynamodb", self.parse)

    def validate(self, params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        shape = model.input_shape
        if shape is None:
            return
        check = self._inputs.get(model.name)
        if check is None:
            with self._lock:
                check = self._inputs[model.name] = self._compiler.check(shape)
        if not check(params):
            validate_parameters(params, shape)  # raises botocore's exact ParamValidationError

    def parse(
        self, operation_model: OperationModel, response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
    ) -> None:
        if response_dict.get("status_code", 500) >= 301 or not isinstance(response_dict.get("body"), bytes):
            return
        raw = response_dict["body"]
        key = (operation_model.name, b"null" not in raw)  # the text "null" in a string counts too
        if key not in self._outputs:
            shape = operation_model.output_shape
            compiler = self._compiler_without_nulls if key[1] else self._compiler
            with self._lock:
                convert = compiler.converter(shape) if shape is not None and not shape.event_stream_name else None
                self._outputs[key] = convert
        convert = self._outputs[key]
        if convert is None or not raw:
            return
        try:
            body = json.loads(raw.decode("utf-8"))
            parsed = convert(body) if isinstance(body, dict) else None
        except Exception:  # malformed: botocore's parser answers it as it always did
            return
        if parsed is not None:
            customized_response_dict.update(parsed)
            response_dict["body"] = b""
