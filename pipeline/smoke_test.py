"""Smoke test of a deployed stack, run by the deploy workflow after each `sam deploy`.

It reaches each of the eight functions behind the API, through API Gateway, and changes nothing:
- products: a products page (the table and its listing index);
- auth: a sign-in with a bad body (validation), and a refresh with a well-formed token signed by
  the wrong key (refused only after reading the signing key from Secrets Manager);
- orders, catalog_admin, staff_users, webhooks: my-orders, a product's photo list, the user list
  and the webhook list, each with a forged access token (each function reads the signing key to
  refuse it);
- offers: the list of the offers on now (the table's offers index);
- docs: the OpenAPI document, and an unknown path (the `$default` route: a 404 with `detail`).
It does not reach the three functions no request invokes (image_check: an upload to the photo
bucket; events: the table's stream; webhook_sender: the webhook queue): triggering them would
change data. Their errors, throttles and dead-letter queues have alarms of their own.
Any unexpected status, a non-JSON answer, an error without `detail` or a 5xx fails it.

    python pipeline/smoke_test.py --stack-name shop-api-dev [--region eu-west-1]
    python pipeline/smoke_test.py --api-url https://abc123.execute-api.eu-west-1.amazonaws.com
"""

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

# Network errors right after a deploy are retried until this many seconds have passed.
DEFAULT_DEADLINE_SECONDS = 60


@dataclass
class Check:
    method: str
    path: str
    expected_status: int
    body: Any = None
    headers: dict[str, str] | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(token_type: str) -> str:
    """A well-formed HS256 JWT with every claim, signed with a random key: only verification
    against the real signing key can refuse it."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"token_type": token_type, "user_id": 1, "iat": now, "exp": now + 300, "jti": secrets.token_hex(16)}
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secrets.token_bytes(32), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def checks() -> list[Check]:
    forged = {"Authorization": f"Bearer {forged_token('access')}"}
    return [
        Check("GET", "/api/products?limit=1", 200),
        Check("POST", "/api/auth", 400, body={}),
        Check("POST", "/api/refresh", 401, body={"refresh": forged_token("refresh")}),
        Check("GET", "/api/my-orders", 401, headers=forged),
        Check("GET", "/api/products/1/images", 401, headers=forged),
        Check("GET", "/api/users", 401, headers=forged),
        Check("GET", "/api/webhooks", 401, headers=forged),
        Check("GET", "/api/offers", 200),
        Check("GET", "/api/openapi.json", 200),
        Check("GET", "/api/smoke-test-no-such-path", 404),
    ]


# What a successful answer must hold, by path (the query aside).
def _page_of_products(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("results"), list)


def _list(document: Any) -> bool:
    return isinstance(document, list)


def _openapi(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("openapi"), str) and isinstance(document.get("paths"), dict)


SHAPES = {"/api/products": ("a page of products", _page_of_products), "/api/offers": ("a list", _list)}
SHAPES["/api/openapi.json"] = ("an OpenAPI document", _openapi)


def request(api_url: str, check: Check, deadline: float) -> tuple[int, bytes]:
    data = None if check.body is None else json.dumps(check.body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    headers.update(check.headers or {})
    while True:
        req = urllib.request.Request(api_url + check.path, data=data, method=check.method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - the stack's https URL
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def problem_with(check: Check, status: int, body: bytes) -> str | None:
    if status != check.expected_status:
        return f"expected {check.expected_status}, got {status}: {body[:300]!r}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"the body is not JSON: {body[:300]!r}"
    if status >= 400 and not (isinstance(document, dict) and document.get("detail")):
        return f"an error without `detail`: {body[:300]!r}"
    if status < 400 and check.path.split("?")[0] in SHAPES:
        name, holds = SHAPES[check.path.split("?")[0]]
        if not holds(document):
            return f"not {name}: {body[:300]!r}"
    return None


def run(api_url: str, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> list[str]:
    """Every check against the API at `api_url`; the problems found (empty when all pass)."""
    api_url = api_url.rstrip("/")
    deadline = time.monotonic() + deadline_seconds
    problems = []
    for check in checks():
        status, body = request(api_url, check, deadline)
        problem = problem_with(check, status, body)
        print(f"{'FAIL' if problem else 'ok'}  {check.method} {check.path.split('?')[0]} -> {status}")
        if problem:
            problems.append(f"{check.method} {check.path}: {problem}")
    return problems


def stack_api_url(stack_name: str, region: str | None) -> str:
    import boto3  # only here: the --api-url form needs nothing beyond the standard library

    stack = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return str(outputs["ApiUrl"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack-name", help="read ApiUrl from this stack's outputs")
    target.add_argument("--api-url", help="the API's base URL")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_SECONDS, help="seconds to retry network errors")
    args = parser.parse_args()
    api_url = args.api_url or stack_api_url(args.stack_name, args.region)
    print(f"Smoke test of {api_url}")
    problems = run(api_url, args.deadline)
    if problems:
        print("\n".join(["", "Smoke test failed:", *problems]), file=sys.stderr)
        raise SystemExit(1)
    print("Smoke test passed.")


if __name__ == "__main__":
    main()
