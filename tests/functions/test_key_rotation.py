"""Signing-key rotation with Secrets Manager's version stages: tokens name their key (`kid`),
verification accepts the current and the previous version, so a rotation signs no one out."""

import base64
import hashlib
import hmac
import json
import secrets as random
import time
import uuid
from typing import Any

import boto3
import jwt
import pytest

from conftest import SECRET_NAME, bearer
from shop_common import secrets
from shoplocal.gateway.invoke import LocalApi


def hand_signed(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A correctly signed JWT with any header (pyjwt refuses to write a kid that is not a string)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing_input}.{part(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def rotate() -> str:
    """What an operator does: put a new value; Secrets Manager makes it AWSCURRENT and the old one
    AWSPREVIOUS. Returns the new version's id."""
    reply = boto3.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=random.token_urlsafe(48))
    return str(reply["VersionId"])


def current_version() -> str:
    return str(boto3.client("secretsmanager").get_secret_value(SecretId=SECRET_NAME)["VersionId"])


def sign_in(api: LocalApi, new_user: Any) -> dict[str, str]:
    _, username, password = new_user()
    tokens: dict[str, str] = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()
    return tokens


def refresh(api: LocalApi, token: str) -> int:
    status: int = api.request("POST", "/api/refresh", json_body={"refresh": token}).status
    return status


def test_tokens_name_the_secret_version_that_signed_them(api: LocalApi, new_user: Any) -> None:
    tokens = sign_in(api, new_user)
    for token in tokens.values():
        assert jwt.get_unverified_header(token)["kid"] == current_version()


def test_after_a_rotation_tokens_of_the_previous_key_still_work_and_new_ones_use_the_new_key(
    api: LocalApi, new_user: Any
) -> None:
    before = sign_in(api, new_user)
    new_version = rotate()
    secrets.forget_signing_keys()  # a container started after the rotation
    assert refresh(api, before["refresh"]) == 200
    assert api.request("GET", "/api/my-orders", headers=bearer(before["access"])).status == 200
    after = sign_in(api, new_user)
    assert jwt.get_unverified_header(after["access"])["kid"] == new_version
    assert refresh(api, after["refresh"]) == 200


def test_a_second_rotation_retires_the_oldest_key(api: LocalApi, new_user: Any) -> None:
    oldest = sign_in(api, new_user)
    rotate()
    rotate()
    secrets.forget_signing_keys()
    assert refresh(api, oldest["refresh"]) == 401


def test_a_warm_container_learns_a_new_key_from_a_token_that_names_it(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another container already signs with the new key; this one still holds the old keys."""
    signing_keys = secrets.signing_keys()
    new_version = rotate()
    new_key = boto3.client("secretsmanager").get_secret_value(SecretId=SECRET_NAME)["SecretString"].encode()
    user_id, _, _ = new_user()
    now = int(time.time())
    claims = {"token_type": "access", "user_id": user_id, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    token = jwt.encode(claims, new_key, algorithm="HS256", headers={"kid": new_version})
    monkeypatch.setattr(secrets, "UNKNOWN_KID_RETRY_SECONDS", -1)  # the last read is "over a minute" old
    assert api.request("GET", "/api/my-orders", headers=bearer(token)).status == 200
    assert secrets.signing_keys().current_id == new_version != signing_keys.current_id


def test_containers_re_read_the_keys_when_theirs_are_old(api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.signing_keys()
    new_version = rotate()
    monkeypatch.setattr(secrets, "MAX_AGE_SECONDS", -1)
    assert jwt.get_unverified_header(sign_in(api, new_user)["access"])["kid"] == new_version


def test_forged_kids_are_refused_without_calling_secrets_manager_each_time(
    api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, _, _ = new_user()
    key = secrets.signing_keys().current
    reads: list[int] = []
    real_fetch = secrets._fetch

    def counting_fetch() -> secrets.SigningKeys:
        reads.append(1)
        return real_fetch()

    monkeypatch.setattr(secrets, "_fetch", counting_fetch)
    now = int(time.time())
    claims = {"token_type": "access", "user_id": user_id, "iat": now, "exp": now + 60, "jti": "x"}
    for _ in range(5):
        token = jwt.encode(claims, key, algorithm="HS256", headers={"kid": uuid.uuid4().hex})
        assert api.request("GET", "/api/my-orders", headers=bearer(token)).status == 401
    assert reads == []  # the keys were read less than a minute ago
    for kid in (7, ["a"], True):
        assert (
            api.request("GET", "/api/my-orders", headers=bearer(hand_signed({"alg": "HS256", "kid": kid}, claims, key))).status
            == 401
        )
    assert api.request("GET", "/api/my-orders", headers=bearer(hand_signed({"alg": "HS256"}, claims, key))).status == 200


def test_a_token_from_before_kids_signed_with_the_now_previous_key_still_verifies(api: LocalApi, new_user: Any) -> None:
    user_id, _, _ = new_user()
    old_key = secrets.signing_keys().current
    now = int(time.time())
    claims = {"token_type": "access", "user_id": user_id, "iat": now, "exp": now + 60, "jti": "legacy"}
    legacy = jwt.encode(claims, old_key, algorithm="HS256")  # no kid header
    rotate()
    secrets.forget_signing_keys()
    assert api.request("GET", "/api/my-orders", headers=bearer(legacy)).status == 200
