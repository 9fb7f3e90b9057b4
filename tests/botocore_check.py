"""Every request the code under test makes through the lean AWS client is held to botocore, on
the way out and on the way back: its parameters must pass botocore's validator for the
operation (the lean client does not validate), and the client's parse of the response must give
what botocore's parser gives (with its modeled error fields, as botocore's endpoint adds them)
for everything a caller reads: all but `ResponseMetadata` and Secrets Manager's `CreatedDate`.

Installed for the whole test session by conftest.py, wrapped around the in-process moto
transport, so each of the suite's thousands of calls is also a check of the client."""

import json
import threading
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.validate import validate_parameters

from shop_common.aws.json_client import parse_response
from shop_common.aws.services import DYNAMODB, EVENTBRIDGE, SECRETS_MANAGER, SQS
from shop_common.aws.transport import HttpResponse, Transport

_SERVICES = {
    spec.target_prefix: name
    for spec, name in ((DYNAMODB, "dynamodb"), (SECRETS_MANAGER, "secretsmanager"), (EVENTBRIDGE, "events"), (SQS, "sqs"))
}
# What botocore's parse holds that the lean client leaves out (no caller reads them).
UNREAD = frozenset({"ResponseMetadata", "CreatedDate"})
_models: dict[str, ServiceModel] = {}
_lock = threading.Lock()


def _service_model(name: str) -> ServiceModel:
    with _lock:
        if name not in _models:
            _models[name] = botocore.session.get_session().get_service_model(name)
        return _models[name]


def botocore_parse(model: OperationModel, response: HttpResponse) -> dict[str, Any]:
    """botocore's parse of a response, as its endpoint returns it (before retries are counted)."""
    parser = create_parser(model.service_model.resolved_protocol)
    response_dict = {"status_code": response.status, "headers": dict(response.headers), "body": response.body, "context": {}}
    assert model.output_shape is not None  # every operation the lean client serves has an output
    parsed: dict[str, Any] = parser.parse(response_dict, model.output_shape)
    if response.status >= 300:
        code = parsed.get("Error", {}).get("Code")
        shape = model.service_model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(parser.parse(response_dict, shape))
    return parsed


class BotocoreCheck:
    """A transport around another: validates each request, checks each response's parse."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.read_timeout = getattr(transport, "read_timeout", None)

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> HttpResponse:
        prefix, _, operation = headers["X-Amz-Target"].partition(".")
        model = _service_model(_SERVICES[prefix]).operation_model(operation)
        assert model.input_shape is not None
        validate_parameters(json.loads(body), model.input_shape)  # raises botocore's ParamValidationError
        response = self.transport.send(url, headers, body)
        check_parse(model, response)
        return response

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()


def check_parse(model: OperationModel, response: HttpResponse) -> None:
    """The lean parse gives every member botocore's does, equal (the lean one may also keep a
    member the model does not name, which botocore drops: no caller reads it)."""
    ours = parse_response(response)
    theirs = {name: value for name, value in botocore_parse(model, response).items() if name not in UNREAD}
    assert {name: ours.get(name) for name in theirs} == theirs, (
        f"{model.name}: the lean parse {ours!r} is not botocore's {theirs!r}"
    )
