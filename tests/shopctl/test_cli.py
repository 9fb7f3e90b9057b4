"""`shopctl`, run in-process against the test table (`--table`), and as a user runs it."""

import io
import os
import subprocess
import sys

import pytest

from local_server import free_port
from shopctl_helpers import can_sign_in, listing, shopctl
from shoplocal.gateway.invoke import LocalApi
from shoplocal.template import PROJECT_ROOT

# The CLI points boto3 at its store through the environment; do not let that leak.
pytestmark = pytest.mark.usefixtures("restore_environment")


# --- create-user ---------------------------------------------------------------------------


def test_create_user_makes_an_account_that_can_sign_in(api: LocalApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert shopctl("create-user", "alice", "--password", "alice-password", "--staff") == 0
    assert "created staff user alice" in capsys.readouterr().out
    assert can_sign_in(api, "alice", "alice-password")


def test_create_user_refuses_a_taken_name_a_short_password_and_a_missing_one(
    api: LocalApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shopctl("create-user", "bob", "--password", "bob-password") == 0
    assert shopctl("create-user", "bob", "--password", "other-password") == 1
    assert "already taken" in capsys.readouterr().err
    assert can_sign_in(api, "bob", "bob-password")
    assert shopctl("create-user", "carol", "--password", "short") == 2
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed with the test
    assert shopctl("create-user", "carol") == 2
    assert "no password: give --password-stdin" in capsys.readouterr().err
    assert not can_sign_in(api, "carol", "short")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("dave!",), "username 'dave!': Enter a valid username."),
        (("x" * 151,), "Ensure this value has at most 150 characters."),
        (("dave", "--email", "nope"), "email 'nope': Enter a valid email address."),
        (("dave", "--email", "bu\u017f@example.com"), "Enter a valid email address."),
    ],
)
def test_create_user_applies_the_username_and_email_rules_of_sign_up(
    api: LocalApi, capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], message: str
) -> None:
    assert shopctl("create-user", *arguments, "--password", "a fine passphrase") == 2
    assert message in capsys.readouterr().err
    assert not can_sign_in(api, arguments[0], "a fine passphrase")


def test_create_user_normalises_the_username_and_the_emails_domain_as_sign_up_does(api: LocalApi) -> None:
    assert shopctl("create-user", "Zoe\u0308", "--email", "Zoe@Example.COM", "--password", "a fine passphrase") == 0
    assert can_sign_in(api, "Zo\u00eb", "a fine passphrase")
    profile = api.request(
        "GET", "/api/me", headers={"Authorization": "Bearer " + sign_in_token(api, "Zo\u00eb", "a fine passphrase")}
    ).json()
    assert profile["email"] == "Zoe@example.com"
    assert shopctl("create-user", "ZO\u00cb", "--password", "a fine passphrase") == 1  # only the case differs


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("12345678901", "This password is entirely numeric."),
        ("mallory-the-user", "The password is too similar to the username."),
    ],
)
def test_create_user_applies_the_password_rules_of_sign_up_unless_told_to_allow_a_weak_one(
    api: LocalApi, capsys: pytest.CaptureFixture[str], password: str, message: str
) -> None:
    assert shopctl("create-user", "mallory-the-user", "--password", password) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "--allow-weak-password" in error
    assert not can_sign_in(api, "mallory-the-user", password)
    assert shopctl("create-user", "mallory-the-user", "--password", password, "--allow-weak-password") == 0
    assert can_sign_in(api, "mallory-the-user", password)


def sign_in_token(api: LocalApi, username: str, password: str) -> str:
    token: str = api.request("POST", "/api/auth", json_body={"username": username, "password": password}).json()["access"]
    return token


def test_create_user_prompts_twice_for_the_password(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["typed-password", "typed-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert shopctl("create-user", "dave") == 0
    assert can_sign_in(api, "dave", "typed-password")
    mismatched = iter(["one-password", "another-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(mismatched))
    assert shopctl("create-user", "erin") == 2
    assert not can_sign_in(api, "erin", "one-password")


def test_create_user_reads_the_password_from_standard_input(api: LocalApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a password with spaces \r\nnot this line\n"))
    assert shopctl("create-user", "frank", "--password-stdin") == 0
    assert can_sign_in(api, "frank", "a password with spaces ")
    monkeypatch.setattr(sys, "stdin", io.StringIO("last-line-without-newline"))
    assert shopctl("create-user", "grace", "--password-stdin") == 0
    assert can_sign_in(api, "grace", "last-line-without-newline")


@pytest.mark.parametrize(
    ("stdin", "message"),
    [("", "standard input is empty"), ("\n", "at least 8 characters"), ("short\n", "at least 8 characters")],
)
def test_create_user_refuses_an_empty_or_short_password_on_standard_input(
    api: LocalApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stdin: str, message: str
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert shopctl("create-user", "heidi", "--password-stdin") == 2
    assert message in capsys.readouterr().err
    assert not can_sign_in(api, "heidi", stdin.strip())


def test_password_and_password_stdin_cannot_be_combined(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        shopctl("create-user", "ivan", "--password", "ivan-password", "--password-stdin")
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


# --- seed-demo -----------------------------------------------------------------------------


def test_seed_demo_adds_the_demo_users_and_catalogue_once(api: LocalApi, capsys: pytest.CaptureFixture[str]) -> None:
    from shopctl.demo import DEMO_PRODUCT_COUNT, DEMO_USERS

    assert shopctl("seed-demo") == 0
    assert listing(api)["count"] == DEMO_PRODUCT_COUNT
    for user in DEMO_USERS:
        assert can_sign_in(api, user.username, user.password)
    assert shopctl("seed-demo") == 0
    assert "none (they exist)" in capsys.readouterr().out
    assert listing(api)["count"] == DEMO_PRODUCT_COUNT


def test_demo_catalogue_has_varied_prices_and_stocks_some_sold_out() -> None:
    from shopctl.demo import demo_products

    products = demo_products()
    assert len({p.name for p in products}) == len(products) == 200
    assert min(p.price for p in products) < 5 < 200 < max(p.price for p in products)
    sold_out = sum(p.quantity == 0 for p in products)
    assert 10 <= sold_out <= 40
    assert demo_products() == products  # the same shop on every fresh start


# --- as a user runs it ---------------------------------------------------------------------


def run_shopctl(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopctl.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_explains_every_command_and_the_exit_codes() -> None:
    result = run_shopctl("--help")
    assert result.returncode == 0
    for command in ("create-user", "load-products", "seed-demo", "export", "import", "--table", "--endpoint-url"):
        assert command in result.stdout
    exit_codes = result.stdout.split("exit status:")[1]
    for code in ("0", "1", "2", "130", "141"):
        assert f"\n  {code} " in exit_codes


@pytest.mark.parametrize(
    ("command", "explained"),
    [
        ("create-user", "--password-stdin"),
        ("load-products", "says what it wrote"),
        ("export", "--include-password-hashes"),
        ("import", "--allow-locked-out-users"),
    ],
)
def test_each_command_has_help_that_explains_it(command: str, explained: str) -> None:
    result = run_shopctl(command, "--help")
    assert result.returncode == 0
    assert explained in " ".join(result.stdout.split())


def test_without_a_running_store_it_says_how_to_start_one() -> None:
    result = run_shopctl("seed-demo", DB_PORT=str(free_port()))
    assert result.returncode == 1
    assert "no local store at http://127.0.0.1:" in result.stderr
    assert "make run" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_a_usage_error() -> None:
    result = run_shopctl("load-products")
    assert result.returncode == 2
    assert "the following arguments are required: file" in result.stderr


def test_endpoint_url_overrides_the_local_port_before_or_after_the_command() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (("--endpoint-url", url, "export", "-"), ("export", "-", "--endpoint-url", url)):
        result = run_shopctl(*args, DB_PORT="8000")
        assert result.returncode == 1
        assert f"no local store at {url}" in result.stderr
