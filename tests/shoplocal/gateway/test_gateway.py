"""The local API Gateway, on a small project of its own: events as API Gateway builds them,
responses as it sends them, routes and code read afresh from the template, CORS."""

import base64
import http.client
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import SECRET_NAME, TABLE_NAME
from shoplocal.gateway.http_server import ApiServer
from shoplocal.gateway.local_gateway import LocalGateway
from shoplocal.gateway.reloader import CodeWatcher
from shoplocal.template import TEMPLATE_PATH

TEMPLATE = """\
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Environment:
      Variables:
        GREETING: !Ref Greeting
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: echo_app.handler
      Environment:
        Variables:
          FUNCTION_ROLE: echo
          BUCKET: !Ref Bucket
          BUCKET_ARN: !GetAtt Bucket.Arn
      Events:
        Any:
          Type: HttpApi
          Properties: {Method: ANY, Path: "/echo/{name}"}
        Exact:
          Type: HttpApi
          Properties: {Method: GET, Path: /echo/exact}
        Files:
          Type: HttpApi
          Properties: {Method: GET, Path: "/files/{path+}"}
  ReplyFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: reply/
      Handler: reply_app.handler
      Events:
        Reply:
          Type: HttpApi
          Properties: {Method: POST, Path: /reply}
"""

ECHO_APP = """\
import json
import os
import re


def handler(event, context):
    names = ("GREETING", "FUNCTION_ROLE", "BUCKET", "BUCKET_ARN", "FROM_OVERRIDE")
    environment = {name: os.environ.get(name) for name in names}
    return {"statusCode": 200, "body": json.dumps({"event": event, "env": environment})}
"""

# Returns whatever result the request asks for, so tests can drive the response translation.
REPLY_APP = """\
import json


def handler(event, context):
    request = json.loads(event["body"])
    if request.get("fail"):
        raise RuntimeError("the function failed")
    return request["result"]
"""


# The gateway puts the functions' variables into the process environment, as `make run` wants.
pytestmark = pytest.mark.usefixtures("restore_environment")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "echo").mkdir()
    (tmp_path / "reply").mkdir()
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "echo" / "echo_app.py").write_text(ECHO_APP)
    (tmp_path / "reply" / "reply_app.py").write_text(REPLY_APP)
    return tmp_path


@pytest.fixture
def gateway(project: Path) -> LocalGateway:
    return LocalGateway(project / "template.yaml", refs={}, overrides={"FROM_OVERRIDE": "1"})


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: bytes | None = None, headers: list[tuple[str, str]] | None = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.putrequest(method, path)
        for name, value in headers or []:
            connection.putheader(name, value)
        connection.putheader("content-length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        response.data = response.read()  # type: ignore[attr-defined]
        connection.close()
        return response


@pytest.fixture
def client(gateway: LocalGateway) -> Iterator[Client]:
    server = ApiServer("127.0.0.1", 0, gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Client(server.server_port)
    server.shutdown()
    server.server_close()


def echoed(response: Any) -> dict[str, Any]:
    assert response.status == 200
    body: dict[str, Any] = json.loads(response.data)
    return body


def test_request_becomes_a_payload_2_event(client: Client) -> None:
    headers = [("X-Multi", "one"), ("X-Multi", "two"), ("Cookie", "a=1; b=2"), ("User-Agent", "tests")]
    echo = echoed(client.request("GET", "/echo/bob?a=1&a=2&empty=", headers=headers))
    event = echo["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{name}"
    assert event["rawPath"] == "/echo/bob"
    assert event["rawQueryString"] == "a=1&a=2&empty="
    assert event["queryStringParameters"] == {"a": "1,2", "empty": ""}
    assert event["pathParameters"] == {"name": "bob"}
    assert event["headers"]["x-multi"] == "one,two"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/echo/bob",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests",
    }
    assert event["isBase64Encoded"] is False
    assert "body" not in event


def test_an_event_can_keep_the_clients_header_names_as_sam_local_does() -> None:
    from shoplocal.gateway.events import http_api_event

    sent = {"Authorization": "Bearer x", "HOST": "api.example", "User-Agent": "tests", "Cookie": "a=1; b=2"}
    as_sent = http_api_event("GET", "/x", headers=sent, header_names="as sent")
    assert as_sent["headers"] == sent  # no second, lower-case Host
    assert as_sent["requestContext"]["http"]["userAgent"] == "tests"
    assert as_sent["cookies"] == ["a=1", "b=2"]
    lowered = http_api_event("GET", "/x", headers=sent)
    assert lowered["headers"] == {name.lower(): value for name, value in sent.items()}


def test_function_environment_comes_from_the_template(client: Client) -> None:
    env = echoed(client.request("GET", "/echo/x"))["env"]
    # Globals, the function's own variables, a parameter default, a resource's local name, the
    # local overrides; an attribute (GetAtt) has no local value and is left out.
    assert env == {"GREETING": "hello", "FUNCTION_ROLE": "echo", "BUCKET": "Bucket", "BUCKET_ARN": None, "FROM_OVERRIDE": "1"}


def test_the_most_specific_route_wins(client: Client) -> None:
    assert echoed(client.request("GET", "/echo/exact"))["event"]["routeKey"] == "GET /echo/exact"
    assert echoed(client.request("DELETE", "/echo/exact"))["event"]["routeKey"] == "ANY /echo/{name}"
    files = echoed(client.request("GET", "/files/a/b/c.txt"))["event"]
    assert files["pathParameters"] == {"path": "a/b/c.txt"}


def test_text_bodies_pass_as_text_and_binary_bodies_base64(client: Client) -> None:
    text = echoed(client.request("POST", "/echo/x", b'{"a": 1}', [("Content-Type", "application/json")]))["event"]
    assert (text["isBase64Encoded"], text["body"]) == (False, '{"a": 1}')
    raw = bytes([0, 255, 10])
    binary = echoed(client.request("POST", "/echo/x", raw, [("Content-Type", "application/octet-stream")]))["event"]
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == raw


def reply(client: Client, request: dict[str, Any]) -> Any:
    return client.request("POST", "/reply", json.dumps(request).encode(), [("Content-Type", "application/json")])


def test_response_headers_cookies_and_base64_bodies(client: Client) -> None:
    result = {
        "statusCode": 202,
        "headers": {"Content-Type": "image/png", "X-Thing": "a,b"},
        "cookies": ["session=abc; HttpOnly", "theme=dark"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = reply(client, {"result": result})
    assert response.status == 202
    assert response.data == b"\x89PNG"
    assert response.getheader("content-type") == "image/png"
    assert response.getheader("x-thing") == "a,b"
    assert response.headers.get_all("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]
    assert response.getheader("apigw-requestid")


def test_a_result_without_status_code_is_a_json_200(client: Client) -> None:
    response = reply(client, {"result": {"greeting": "hi"}})
    assert (response.status, response.getheader("content-type")) == (200, "application/json")
    assert json.loads(response.data) == {"greeting": "hi"}


def test_a_failing_function_gets_api_gateways_500_and_its_traceback_logged(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shoplocal.api"):
        response = reply(client, {"fail": True})
    assert response.status == 500
    assert json.loads(response.data) == {"message": "Internal Server Error"}
    assert "RuntimeError: the function failed" in caplog.text
    assert "Traceback" in caplog.text


def test_unknown_paths_and_methods_get_api_gateways_404(client: Client) -> None:
    for method, path in (("GET", "/nowhere"), ("GET", "/reply"), ("GET", "/echo"), ("GET", "/echo/a/b")):
        response = client.request(method, path)
        assert response.status == 404, path
        assert json.loads(response.data) == {"message": "Not Found"}


def test_each_request_is_logged_once(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="shoplocal.api"):
        client.request("GET", "/echo/first?q=1")
        client.request("GET", "/echo/second")
        client.request("GET", "/nowhere")
    lines = [record.getMessage() for record in caplog.records if record.name == "shoplocal.api"]
    assert len(lines) == 3
    assert re.fullmatch(r"GET /echo/first\?q=1 200 [0-9.]+ ms EchoFunction \(cold start\)", lines[0])
    assert re.fullmatch(r"GET /echo/second 200 [0-9.]+ ms EchoFunction", lines[1])
    assert re.fullmatch(r"GET /nowhere 404 [0-9.]+ ms -", lines[2])


def test_a_route_added_to_the_template_is_served_after_reload(project: Path, gateway: LocalGateway, client: Client) -> None:
    assert client.request("GET", "/hello").status == 404
    template = project / "template.yaml"
    new_function = """\
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: reply/
      Handler: hello_app.handler
      Events:
        Hello:
          Type: HttpApi
          Properties: {Method: GET, Path: /hello}
"""
    template.write_text(template.read_text() + new_function)
    (project / "reply" / "hello_app.py").write_text("def handler(event, context):\n    return {'hello': 'world'}\n")
    gateway.reload()
    response = client.request("GET", "/hello")
    assert (response.status, json.loads(response.data)) == (200, {"hello": "world"})


def test_changed_code_is_used_after_reload(project: Path, gateway: LocalGateway, client: Client) -> None:
    assert echoed(client.request("GET", "/echo/x"))["env"]["GREETING"] == "hello"
    (project / "echo" / "echo_app.py").write_text("def handler(event, context):\n    return {'version': 2}\n")
    gateway.reload()
    assert json.loads(client.request("GET", "/echo/x").data) == {"version": 2}


def test_the_watcher_notices_changed_code(project: Path) -> None:
    changes: list[list[Path]] = []
    noticed = threading.Event()

    def on_change(paths: list[Path]) -> None:
        changes.append(paths)
        noticed.set()

    source = project / "echo" / "echo_app.py"
    watcher = CodeWatcher(lambda: [project / "echo"], [project / "template.yaml"], on_change, interval=0.05)
    watcher.start()
    try:
        # A modification time surely different from the baseline's, whatever the clock's grain.
        stat = source.stat()
        source.write_text("# changed\n")
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert noticed.wait(60)
    finally:
        watcher.stop()
    assert changes == [[source]]


@pytest.fixture
def shop_gateway() -> LocalGateway:
    """The real template (its CORS configuration); the functions are not invoked."""
    return LocalGateway(TEMPLATE_PATH, refs={"ShopTable": TABLE_NAME, "JwtSigningSecret": SECRET_NAME}, overrides={})


def test_cors_preflight_is_answered_by_the_gateway(shop_gateway: LocalGateway) -> None:
    from shoplocal.gateway.local_gateway import GatewayRequest

    preflight = [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "POST")]
    response = shop_gateway.handle(GatewayRequest("OPTIONS", "/api/order", "", preflight, b""))
    headers = dict(response.headers)
    assert response.status == 204
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    assert headers["access-control-allow-methods"] == "GET,POST,PATCH,DELETE,OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization,content-type,idempotency-key"
    assert headers["access-control-max-age"] == "600"
    foreign = [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")]
    assert shop_gateway.handle(GatewayRequest("OPTIONS", "/api/order", "", foreign, b"")).headers == []


@pytest.mark.parametrize("spelling", [str.lower, str.title, str.upper])
def test_cors_reads_origin_in_any_case(shop_gateway: LocalGateway, spelling: Any) -> None:
    """The gateway passes its rules lower-cased names; they read any spelling all the same."""
    preflight = {spelling("Origin"): "http://localhost:3000", spelling("Access-Control-Request-Method"): "POST"}
    assert shop_gateway.cors.is_preflight("OPTIONS", preflight)
    assert shop_gateway.cors.preflight_headers(preflight)["access-control-allow-origin"] == "http://localhost:3000"
    answer = shop_gateway.cors.response_headers({spelling("Origin"): "http://localhost:3000"})
    assert answer["access-control-allow-origin"] == "http://localhost:3000"
    assert shop_gateway.cors.response_headers({spelling("Origin"): "https://evil.example"}) == {}


def test_cors_headers_are_added_for_allowed_origins_only(shop_gateway: LocalGateway) -> None:
    from shoplocal.gateway.local_gateway import GatewayRequest

    allowed = shop_gateway.handle(GatewayRequest("GET", "/nowhere", "", [("Origin", "http://localhost:3000")], b""))
    assert dict(allowed.headers)["access-control-allow-origin"] == "http://localhost:3000"
    exposed = "link,retry-after,idempotent-replayed,www-authenticate,allow"
    assert dict(allowed.headers)["access-control-expose-headers"] == exposed
    foreign = shop_gateway.handle(GatewayRequest("GET", "/nowhere", "", [("Origin", "https://evil.example")], b""))
    assert "access-control-allow-origin" not in dict(foreign.headers)
