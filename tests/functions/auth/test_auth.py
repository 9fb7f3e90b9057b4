"""POST /api/auth and POST /api/refresh."""

import base64
import hashlib
import json
import time
from typing import Any

import jwt
import pytest

from shop_common.secrets import jwt_signing_key
from shoplocal.gateway.invoke import LocalApi


def sign_in(api: LocalApi, body: Any) -> Any:
    return api.request("POST", "/api/auth", json_body=body)


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, jwt_signing_key(), algorithms=["HS256"])
    return decoded


def test_sign_in_returns_an_access_and_a_refresh_token(api: LocalApi, new_user: Any) -> None:
    user_id, username, password = new_user()
    response = sign_in(api, {"username": username, "password": password})
    assert response.status == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    access, refresh = claims_of(tokens["access"]), claims_of(tokens["refresh"])
    assert (access["token_type"], access["user_id"]) == ("access", user_id)
    assert (refresh["token_type"], refresh["user_id"]) == ("refresh", user_id)
    # The Django app's lifetimes: access 1 day, refresh 1 week.
    assert access["exp"] - access["iat"] == 86_400
    assert refresh["exp"] - refresh["iat"] == 604_800
    assert access["jti"] != refresh["jti"]
    assert jwt.get_unverified_header(tokens["access"])["alg"] == "HS256"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong password"},
        {"username": "nobody", "password": "correct horse battery"},
        {"username": "ALICE", "password": "correct horse battery"},  # usernames are case-sensitive, as in Django
    ],
)
def test_wrong_credentials_are_401_with_the_same_answer(api: LocalApi, new_user: Any, body: dict[str, str]) -> None:
    new_user("alice")
    response = sign_in(api, body)
    assert response.status == 401
    assert response.json() == {"detail": "No active account found with the given credentials", "code": "no_active_account"}


def test_inactive_account_cannot_sign_in(api: LocalApi, new_user: Any) -> None:
    import boto3

    from shop_common.settings import table_name

    _, username, password = new_user()
    boto3.client("dynamodb").update_item(
        TableName=table_name(),
        Key={"PK": {"S": f"USERNAME#{username}"}, "SK": {"S": "USERNAME"}},
        UpdateExpression="SET is_active = :no",
        ExpressionAttributeValues={":no": {"BOOL": False}},
    )
    assert sign_in(api, {"username": username, "password": password}).status == 401


def test_user_migrated_with_a_django_hash_signs_in(api: LocalApi) -> None:
    from shop_common.new_accounts import create_user

    # A hash as Django's PBKDF2PasswordHasher writes it (Django 3.2 used 260,000 iterations).
    salt, iterations = "Kq2WzHkS1zZKyXyNUzSKrx", 260_000
    digest = base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"from-django", salt.encode(), iterations)).decode()
    user_id = create_user("legacy", password_hash=f"pbkdf2_sha256${iterations}${salt}${digest}")
    response = sign_in(api, {"username": "legacy", "password": "from-django"})
    assert response.status == 200
    assert claims_of(response.json()["access"])["user_id"] == user_id
    assert sign_in(api, {"username": "legacy", "password": "from-djangO"}).status == 401


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": "alice"}, ["password"]),
        ({"password": "x"}, ["username"]),
        ({}, ["username", "password"]),
        ({"username": 42, "password": "x"}, ["username"]),
        ({"username": "alice", "password": ["x"]}, ["password"]),
        ({"username": "", "password": "x"}, ["username"]),
        ({"username": "a" * 151, "password": "x"}, ["username"]),
        ({"username": "alice", "password": "x" * 4097}, ["password"]),
        (["alice", "pw"], ["body"]),
        ("alice", ["body"]),
    ],
)
def test_invalid_sign_in_body_is_400_listing_the_fields(api: LocalApi, body: Any, fields: list[str]) -> None:
    response = sign_in(api, body)
    assert response.status == 400
    assert response.json()["detail"] == "Invalid request."
    assert [error["field"] for error in response.json()["errors"]] == fields


def test_sign_in_body_that_is_not_json_is_400(api: LocalApi) -> None:
    response = api.request("POST", "/api/auth", body="username=alice&password=x")
    assert response.status == 400
    assert response.json()["errors"] == [{"field": "body", "message": "Request body is not valid JSON."}]


def test_validation_errors_never_echo_the_password(api: LocalApi) -> None:
    response = sign_in(api, {"username": ["x"], "password": "hunter2-secret"})
    assert "hunter2-secret" not in response.body


# --- refresh ----------------------------------------------------------------------------------


def tokens_for(api: LocalApi, new_user: Any) -> tuple[int, dict[str, str]]:
    user_id, username, password = new_user()
    tokens: dict[str, str] = sign_in(api, {"username": username, "password": password}).json()
    return user_id, tokens


def refresh(api: LocalApi, token: Any) -> Any:
    return api.request("POST", "/api/refresh", json_body={"refresh": token})


def test_refresh_returns_a_new_access_token(api: LocalApi, new_user: Any) -> None:
    user_id, tokens = tokens_for(api, new_user)
    response = refresh(api, tokens["refresh"])
    assert response.status == 200
    assert set(response.json()) == {"access"}
    claims = claims_of(response.json()["access"])
    assert (claims["token_type"], claims["user_id"]) == ("access", user_id)
    assert api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {response.json()['access']}"}).status == 200


def forge(claims: dict[str, Any], key: bytes | str = b"", algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or jwt_signing_key(), algorithm=algorithm)


def valid_claims(token_type: str = "refresh", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"token_type": token_type, "user_id": 1, "iat": now, "exp": now + 600, "jti": "abc", **changes}


def unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def tampered(api: LocalApi, new_user: Any) -> str:
    _, tokens = tokens_for(api, new_user)
    header, payload, signature = tokens["refresh"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = 999
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged_payload}.{signature}"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda api, new_user: tokens_for(api, new_user)[1]["access"], id="access-token-as-refresh"),
        pytest.param(lambda *_: forge(valid_claims(iat=int(time.time()) - 100, exp=int(time.time()) - 1)), id="expired"),
        pytest.param(lambda *_: forge(valid_claims(), key=b"k" * 64), id="wrong-key"),
        pytest.param(lambda *_: unsigned(valid_claims()), id="alg-none"),
        pytest.param(lambda *_: forge(valid_claims(), algorithm="HS512"), id="other-algorithm"),
        pytest.param(tampered, id="tampered-payload"),
        pytest.param(lambda *_: forge({k: v for k, v in valid_claims().items() if k != "jti"}), id="no-jti"),
        pytest.param(lambda *_: forge({k: v for k, v in valid_claims().items() if k != "exp"}), id="no-exp"),
        pytest.param(lambda *_: forge({k: v for k, v in valid_claims().items() if k != "token_type"}), id="no-type"),
        pytest.param(lambda *_: forge(valid_claims(token_type="admin")), id="unknown-type"),
        pytest.param(lambda *_: forge(valid_claims(user_id="1")), id="user-id-not-int"),
        pytest.param(lambda *_: forge(valid_claims(iat=int(time.time()) + 3600)), id="issued-in-the-future"),
        pytest.param(lambda *_: "not.a.token", id="garbage"),
    ],
)
def test_bad_refresh_tokens_are_401(api: LocalApi, new_user: Any, make_token: Any) -> None:
    response = refresh(api, make_token(api, new_user))
    assert response.status == 401
    assert response.json()["code"] == "token_not_valid"
    assert response.json()["detail"]


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": 12}, {"token": "x"}])
def test_refresh_without_a_token_string_is_400(api: LocalApi, body: dict[str, Any]) -> None:
    response = api.request("POST", "/api/refresh", json_body=body)
    assert response.status == 400
    assert [error["field"] for error in response.json()["errors"]] == ["refresh"]


def test_token_lifetimes_are_configurable(api: LocalApi, new_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_LIFETIME_SECONDS", "120")
    monkeypatch.setenv("REFRESH_TOKEN_LIFETIME_SECONDS", "3600")
    _, tokens = tokens_for(api, new_user)
    access, refresh_claims = claims_of(tokens["access"]), claims_of(tokens["refresh"])
    assert access["exp"] - access["iat"] == 120
    assert refresh_claims["exp"] - refresh_claims["iat"] == 3600


def test_a_base64_encoded_body_is_decoded(api: LocalApi, new_user: Any) -> None:
    """API Gateway may hand the body over base64-encoded (isBase64Encoded)."""
    _, username, password = new_user()
    body = json.dumps({"username": username, "password": password}).encode()
    response = api.request("POST", "/api/auth", body=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    assert set(response.json()) == {"access", "refresh"}


def test_an_unsupported_content_type_is_415(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    body = json.dumps({"username": username, "password": password})
    response = api.request("POST", "/api/auth", body=body, headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert "application/json" in response.json()["detail"]


def test_wrong_token_type_messages_use_the_right_article(api: LocalApi, new_user: Any) -> None:
    _, tokens = tokens_for(api, new_user)
    assert refresh(api, tokens["access"]).json()["detail"] == "Token is not a refresh token."
    response = api.request("GET", "/api/my-orders", headers={"Authorization": f"Bearer {tokens['refresh']}"})
    assert response.json()["detail"] == "Token is not an access token."


# --- claim types (RFC 7519): a correctly signed token with a claim of the wrong type is refused -


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": str(int(time.time()) + 600)}, id="exp-numeric-string"),
        pytest.param({"iat": str(int(time.time()))}, id="iat-numeric-string"),
        pytest.param({"nbf": str(int(time.time()) - 10)}, id="nbf-numeric-string"),
        pytest.param({"exp": True}, id="exp-boolean"),
        pytest.param({"iat": False}, id="iat-boolean"),
        pytest.param({"nbf": True}, id="nbf-boolean"),
        pytest.param({"exp": [int(time.time()) + 600]}, id="exp-list"),
        pytest.param({"jti": 12345}, id="jti-number"),
        pytest.param({"jti": None}, id="jti-null"),
        pytest.param({"token_type": ["refresh"]}, id="type-list"),
        pytest.param({"user_id": True}, id="user-id-boolean"),
        pytest.param({"user_id": 1.0}, id="user-id-float"),
    ],
)
def test_claims_must_have_their_rfc_7519_types(api: LocalApi, new_user: Any, changes: dict[str, Any]) -> None:
    user_id, _, _ = new_user()
    assert refresh(api, forge(valid_claims(user_id=user_id))).status == 200  # the same token, well typed
    response = refresh(api, forge(valid_claims(**({"user_id": user_id} | changes))))
    assert response.status == 401
    assert response.json()["code"] == "token_not_valid"  # "Token is expired." for exp=true (1970)


def test_numeric_dates_may_be_fractional_as_rfc_7519_allows(api: LocalApi, new_user: Any) -> None:
    user_id, _, _ = new_user()
    now = time.time()
    claims = valid_claims(user_id=user_id, iat=now - 1.5, exp=now + 600.25, nbf=now - 2.5)
    assert refresh(api, forge(claims)).status == 200


# --- the account decides, not the token: deactivated, deleted and unknown accounts ------------


def test_refresh_checks_the_account_and_the_tokens_revocation_in_one_consistent_call(
    api: LocalApi, new_user: Any, dynamodb_calls: Any
) -> None:
    user_id, tokens = tokens_for(api, new_user)
    dynamodb_calls.clear()
    assert refresh(api, tokens["refresh"]).status == 200
    (call,) = dynamodb_calls.calls
    assert call.operation == "BatchGetItem"
    (request,) = call.params["RequestItems"].values()
    claims = claims_of(tokens["refresh"])
    assert request["Keys"] == [
        {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}},
        {"PK": {"S": f"REVOKED#{claims['jti']}"}, "SK": {"S": "REVOKED"}},
        {"PK": {"S": f"REVOKED#{claims['fam']}"}, "SK": {"S": "FAMILY"}},  # the sign-in's
    ]
    assert request["ConsistentRead"] is True
    # The profile's entry for this sign-in in its map of signed-out sign-ins (logout).
    assert request["ProjectionExpression"].endswith("signed_out.#family")
    assert request["ExpressionAttributeNames"] == {"#family": claims["fam"]}


def test_refresh_is_refused_once_the_account_is_deactivated_and_stays_refused_after_reactivation(
    api: LocalApi, new_user: Any
) -> None:
    """A deactivation revokes every token (the next token generation): a reactivated user signs in again."""
    from shopctl.accounts import set_active

    _, username, password = new_user()
    tokens = sign_in(api, {"username": username, "password": password}).json()
    set_active(username, False)
    response = refresh(api, tokens["refresh"])
    assert response.status == 401
    assert response.json() == {"detail": "User not found or inactive.", "code": "user_inactive"}
    assert response.headers["www-authenticate"].startswith("Bearer")
    set_active(username, True)
    assert refresh(api, tokens["refresh"]).json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    again = sign_in(api, {"username": username, "password": password}).json()
    assert refresh(api, again["refresh"]).status == 200


def test_refresh_is_refused_for_a_deleted_account(api: LocalApi, new_user: Any) -> None:
    from shopctl.accounts import delete_account

    _, username, password = new_user()
    tokens = sign_in(api, {"username": username, "password": password}).json()
    delete_account(username, delete_orders=False)
    assert refresh(api, tokens["refresh"]).json()["code"] == "user_inactive"


def test_a_well_signed_token_for_an_account_that_never_existed_does_not_refresh(api: LocalApi) -> None:
    response = refresh(api, forge(valid_claims(user_id=987_654)))
    assert response.status == 401
    assert response.json()["code"] == "user_inactive"


def test_a_profile_without_the_active_flag_counts_as_inactive(api: LocalApi, new_user: Any) -> None:
    """Profiles written before `is_active` moved there are refused until `shopctl migrate`
    copies the flag: failing closed, never letting a deactivated account back in."""
    from shop_common.dynamo import client
    from shop_common.settings import table_name

    user_id, tokens = tokens_for(api, new_user)
    client().update_item(
        TableName=table_name(),
        Key={"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}},
        UpdateExpression="REMOVE is_active",
    )
    assert refresh(api, tokens["refresh"]).status == 401


def test_new_accounts_are_active_on_both_items(new_user: Any) -> None:
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    user_id, username, _ = new_user()
    keys = [
        {"PK": {"S": f"USERNAME#{username}"}, "SK": {"S": "USERNAME"}},
        {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}},
    ]
    for key in keys:
        assert from_attributes(client().get_item(TableName=table_name(), Key=key)["Item"])["is_active"] is True


# --- logout -----------------------------------------------------------------------------------


def logout(api: LocalApi, token: Any) -> Any:
    return api.request("POST", "/api/logout", json_body={"refresh": token})


def test_logout_revokes_that_refresh_token_only(api: LocalApi, new_user: Any) -> None:
    _, username, password = new_user()
    phone = sign_in(api, {"username": username, "password": password}).json()
    laptop = sign_in(api, {"username": username, "password": password}).json()
    response = logout(api, phone["refresh"])
    assert response.status == 204
    assert response.body == ""
    refused = refresh(api, phone["refresh"])
    assert refused.status == 401
    assert refused.json() == {"detail": "Token is blacklisted.", "code": "token_not_valid"}
    assert refresh(api, laptop["refresh"]).status == 200
    assert logout(api, phone["refresh"]).status == 204  # again: still signed out, no error


def test_a_logout_is_kept_until_every_token_of_its_sign_in_has_expired(api: LocalApi, new_user: Any) -> None:
    """The profile's entry for the sign-in lasts until the last token that a refresh could have
    issued until now expires (now + the longer lifetime), and no longer matters after that."""
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    user_id, tokens = tokens_for(api, new_user)
    claims = claims_of(tokens["refresh"])
    before = int(time.time())
    logout(api, tokens["refresh"])
    after = int(time.time()) + 1
    key = {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PROFILE"}}
    stored = from_attributes(client().get_item(TableName=table_name(), Key=key)["Item"])
    assert before + 604_800 <= stored["signed_out"][claims["fam"]] <= after + 604_800


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda api, new_user: tokens_for(api, new_user)[1]["access"], id="access-token"),
        pytest.param(lambda *_: forge(valid_claims(iat=int(time.time()) - 100, exp=int(time.time()) - 1)), id="expired"),
        pytest.param(lambda *_: forge(valid_claims(), key=b"k" * 64), id="wrong-key"),
        pytest.param(lambda *_: "not.a.token", id="garbage"),
    ],
)
def test_logout_with_a_bad_token_is_401_and_writes_nothing(
    api: LocalApi, new_user: Any, make_token: Any, dynamodb_calls: Any
) -> None:
    token = make_token(api, new_user)
    dynamodb_calls.clear()
    response = logout(api, token)
    assert response.status == 401
    assert response.json()["code"] == "token_not_valid"
    assert dynamodb_calls.operations == []


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": 12}, ["x"]])
def test_logout_without_a_token_string_is_400(api: LocalApi, body: Any) -> None:
    assert api.request("POST", "/api/logout", json_body=body).status == 400


# --- re-hashing at sign-in ----------------------------------------------------------------------


def stored_hash(username: str) -> str:
    from shop_common.dynamo import client, from_attributes
    from shop_common.settings import table_name

    key = {"PK": {"S": f"USERNAME#{username}"}, "SK": {"S": "USERNAME"}}
    return str(from_attributes(client().get_item(TableName=table_name(), Key=key)["Item"])["password_hash"])


def django_hash(password: str, iterations: int, algorithm: str = "sha256") -> str:
    salt = "Kq2WzHkS1zZKyXyNUzSKrx"
    digest = base64.b64encode(hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), iterations)).decode()
    return f"pbkdf2_{algorithm}${iterations}${salt}${digest}"


@pytest.mark.parametrize(
    "old_hash",
    [
        pytest.param(django_hash("from-django", 500), id="fewer-iterations"),
        pytest.param(django_hash("from-django", 5000, "sha1"), id="django-pbkdf2-sha1"),
    ],
)
def test_sign_in_rehashes_an_older_hash_transparently(api: LocalApi, monkeypatch: pytest.MonkeyPatch, old_hash: str) -> None:
    from shop_common import passwords
    from shop_common.new_accounts import create_user

    monkeypatch.setattr(passwords, "ITERATIONS", 2_000)  # "today's" figure, above the stored one
    create_user("legacy", password_hash=old_hash)
    assert sign_in(api, {"username": "legacy", "password": "wrong"}).status == 401
    assert stored_hash("legacy") == old_hash  # a wrong password changes nothing
    first = sign_in(api, {"username": "legacy", "password": "from-django"})
    assert first.status == 200
    assert stored_hash("legacy").startswith("pbkdf2_sha256$2000$")
    upgraded = stored_hash("legacy")
    assert sign_in(api, {"username": "legacy", "password": "from-django"}).status == 200
    assert stored_hash("legacy") == upgraded  # once is enough
    assert refresh(api, first.json()["refresh"]).status == 200  # nobody is signed out by it
