"""Running `shopctl` in-process against the test table, and reading the result through the API."""

from typing import Any

from conftest import REGION, TABLE_NAME
from shopctl.cli import main
from shoplocal.gateway.invoke import LocalApi


def shopctl(*args: str, table: str = TABLE_NAME) -> int:
    return main([*args, "--table", table, "--region", REGION])


def listing(api: LocalApi, query: str = "limit=100") -> dict[str, Any]:
    body: dict[str, Any] = api.request("GET", "/api/products", query_string=query).json()
    return body


def can_sign_in(api: LocalApi, username: str, password: str) -> bool:
    reply = api.request("POST", "/api/auth", json_body={"username": username, "password": password})
    return bool(reply.status == 200)
