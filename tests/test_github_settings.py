"""pipeline/github_settings.py against a stand-in for GitHub's REST API that keeps what it is
sent: the environments and rulesets it sets, and that a second run changes nothing."""

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline import github_settings
from shoplocal.template import PROJECT_ROOT

REPO = "shop-org/shop-api"
USERS = {"alice": 101, "bob": 102}


class FakeGitHub(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.environments: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, list[dict[str, Any]]] = {}
        self.rulesets: dict[int, dict[str, Any]] = {}
        self.writes: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeGitHub

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        assert self.headers["Authorization"] == "Bearer test-token"
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        parts = self.path.strip("/").split("/")
        github = self.server
        with github.lock:
            if self.command != "GET":
                github.writes.append((self.command, self.path))
            if parts[0] == "users":
                return self._answer(200, {"id": USERS[parts[1]]}) if parts[1] in USERS else self._answer(404, {})
            assert parts[:3] == ["repos", *REPO.split("/")], self.path
            rest = parts[3:]
            if rest[0] == "environments" and len(rest) == 2:
                github.environments[rest[1]] = body or {}
                return self._answer(200, {"name": rest[1]})
            if rest[0] == "environments" and rest[2] == "deployment-branch-policies":
                policies = github.policies.setdefault(rest[1], [])
                if self.command == "GET":
                    return self._answer(200, {"total_count": len(policies), "branch_policies": policies})
                if self.command == "POST":
                    policies.append({"id": 1000 + len(github.writes), **(body or {})})
                    return self._answer(200, policies[-1])
                github.policies[rest[1]] = [p for p in policies if str(p["id"]) != rest[3]]
                return self._answer(204, {})
            if rest[0] == "rulesets":
                if self.command == "GET":
                    return self._answer(200, [{"id": key, "name": value["name"]} for key, value in github.rulesets.items()])
                key = int(rest[1]) if len(rest) > 1 else 500 + len(github.rulesets)
                github.rulesets[key] = body or {}
                return self._answer(200, {"id": key})
        return self._answer(404, {"message": "Not Found"})

    do_GET = do_PUT = do_POST = do_DELETE = _handle

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def configure(github: FakeGitHub, reviewers: list[str]) -> list[str]:
    return github_settings.configure(REPO, reviewers, github_settings.api("test-token", github.url))


def test_prod_waits_for_a_named_reviewer_who_is_not_the_one_who_started_it(github: FakeGitHub) -> None:
    configure(github, ["alice", "bob"])
    prod = github.environments["prod"]
    assert prod["prevent_self_review"] is True
    assert prod["reviewers"] == [{"type": "User", "id": 101}, {"type": "User", "id": 102}]
    assert "reviewers" not in github.environments["dev"]


def test_each_environment_admits_only_its_own_refs(github: FakeGitHub) -> None:
    configure(github, ["alice"])
    for name in ("dev", "prod"):
        assert github.environments[name]["deployment_branch_policy"] == {
            "protected_branches": False,
            "custom_branch_policies": True,
        }
    assert [(p["name"], p["type"]) for p in github.policies["dev"]] == [("main", "branch")]
    assert [(p["name"], p["type"]) for p in github.policies["prod"]] == [("v*", "tag")]


def test_release_tags_are_administrators_only_and_main_takes_reviewed_tested_pull_requests(github: FakeGitHub) -> None:
    configure(github, ["alice"])
    rulesets = {ruleset["name"]: ruleset for ruleset in github.rulesets.values()}
    tags = rulesets["release tags"]
    assert tags["target"] == "tag"
    assert tags["conditions"]["ref_name"]["include"] == ["refs/tags/v*"]
    assert {rule["type"] for rule in tags["rules"]} == {"creation", "update", "deletion"}
    assert tags["bypass_actors"] == [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}]
    main = {rule["type"]: rule.get("parameters", {}) for rule in rulesets["main"]["rules"]}
    assert main["pull_request"]["required_approving_review_count"] == 1
    assert main["pull_request"]["require_last_push_approval"] is True
    assert main["required_status_checks"]["required_status_checks"] == [{"context": "make test"}]
    assert {"deletion", "non_fast_forward"} <= set(main)
    assert rulesets["main"]["bypass_actors"] == []


def test_the_required_check_is_the_workflows_test_job() -> None:
    from test_workflows import JOBS

    assert JOBS["test"]["name"] == github_settings.TEST_CHECK


def test_a_second_run_adds_nothing_and_a_stray_rule_is_removed(github: FakeGitHub) -> None:
    configure(github, ["alice"])
    github.policies["prod"].append({"id": 9, "name": "main", "type": "branch"})  # someone widened prod by hand
    before = len(github.writes)
    configure(github, ["alice"])
    again = github.writes[before:]
    assert not [write for write in again if write[0] == "POST"]
    assert ("DELETE", f"/repos/{REPO}/environments/prod/deployment-branch-policies/9") in again
    assert len(github.rulesets) == 2
    assert [(p["name"], p["type"]) for p in github.policies["prod"]] == [("v*", "tag")]


def test_an_unknown_reviewer_is_an_error_that_says_so(github: FakeGitHub) -> None:
    with pytest.raises(github_settings.GitHubError, match=r"/users/mallory: HTTP 404"):
        configure(github, ["mallory"])
    assert github.writes == []


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline.github_settings", *arguments]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False, env={})


def test_the_dry_run_prints_every_write_and_needs_no_token() -> None:
    result = run(REPO, "--prod-reviewer", "alice", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"PUT /repos/{REPO}/environments/prod" in result.stdout
    assert '"prevent_self_review": true' in result.stdout
    assert f"POST /repos/{REPO}/rulesets" in result.stdout
    assert "environment prod: deployable from tag 'v*' only" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([REPO], "--prod-reviewer"),
        (["not-a-repo", "--prod-reviewer", "alice"], "OWNER/REPO"),
        ([REPO, "--prod-reviewer", "alice"], "GITHUB_TOKEN"),
    ],
)
def test_missing_reviewers_a_bad_repo_or_no_token_are_refused(arguments: list[str], message: str) -> None:
    result = run(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
