"""Set up the repository's side of the pipeline through GitHub's REST API: the `dev` and `prod`
environments the deploy jobs run in, and the rulesets that guard `main` and the release tags.

    GITHUB_TOKEN=$(gh auth token) python -m pipeline.github_settings OWNER/REPO --prod-reviewer alice --prod-reviewer bob
    python -m pipeline.github_settings OWNER/REPO --prod-reviewer alice --dry-run   # print the requests only

What it sets (README.md, "Deploy from GitHub"):
- `dev`: deployable from the `main` branch only (the dev role trusts this environment only).
- `prod`: deployable from `v*` tags only, after one of the named reviewers approves, and never
  by the person who started the run (`prevent_self_review`).
- a ruleset on `v*` tags: only repository administrators create, move or delete them.
- a ruleset on the default branch: changes arrive by pull request with an approval by someone
  other than the last pusher and a green `make test`; no force pushes, no deletion.

Every step reads what is there first and only adds or replaces what differs, so running it again
is safe. What GitHub's API cannot set (e.g. who may approve, on plans without environment
reviewers) is reported, not skipped silently. Standard library only.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
ADMIN_ROLE = 5  # GitHub's id of the built-in repository role "admin", for ruleset bypass
TEST_CHECK = "make test"  # the test job's name in .github/workflows/pipeline.yml


class GitHubError(Exception):
    """GitHub refused a request; the message says which and why."""


Send = Callable[[str, str, dict[str, Any] | None], Any]


@dataclass
class Recorder:
    """A stand-in for GitHub in --dry-run: reads find nothing, writes are printed."""

    out: Any = sys.stdout
    writes: list[tuple[str, str, Any]] = field(default_factory=list)

    def __call__(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        if method == "GET":
            return {"id": 0} if path.startswith("/users/") else []
        self.writes.append((method, path, body))
        print(f"{method} {path}\n{json.dumps(body, indent=2)}\n", file=self.out)
        return {}


def api(token: str, base_url: str = API_URL) -> Send:
    def send(method: str, path: str, body: dict[str, Any] | None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{base_url}{path}", data=data, method=method)  # noqa: S310 - https or a test URL
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise GitHubError(f"{method} {path}: HTTP {error.code}: {detail}") from error
        return json.loads(text) if text else {}

    return send


def environment(name: str, reviewer_ids: list[int]) -> dict[str, Any]:
    body: dict[str, Any] = {"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}}
    if reviewer_ids:
        body |= {"prevent_self_review": True, "reviewers": [{"type": "User", "id": user} for user in reviewer_ids]}
    return body


RULESETS: dict[str, dict[str, Any]] = {
    "release tags": {
        "target": "tag",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
        "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
        "bypass_actors": [{"actor_id": ADMIN_ROLE, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
    },
    "main": {
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": [
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": 1,
                    "dismiss_stale_reviews_on_push": True,
                    "require_code_owner_review": False,
                    "require_last_push_approval": True,
                    "required_review_thread_resolution": False,
                },
            },
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": TEST_CHECK}],
                },
            },
        ],
        "bypass_actors": [],
    },
}
# Which refs may deploy to each environment.
DEPLOYS_FROM = {"dev": {"name": "main", "type": "branch"}, "prod": {"name": "v*", "type": "tag"}}


def configure(repo: str, prod_reviewers: list[str], send: Send) -> list[str]:
    """Apply the settings to `repo` ("owner/name"); returns what it did, one line each."""
    done: list[str] = []
    base = f"/repos/{repo}"
    reviewer_ids = [int(send("GET", f"/users/{urllib.parse.quote(login)}", None)["id"]) for login in prod_reviewers]
    for name, allowed in DEPLOYS_FROM.items():
        send("PUT", f"{base}/environments/{name}", environment(name, reviewer_ids if name == "prod" else []))
        done.append(f"environment {name}: deployable from {allowed['type']} {allowed['name']!r} only")
        policies = send("GET", f"{base}/environments/{name}/deployment-branch-policies", None)
        existing = policies.get("branch_policies", []) if isinstance(policies, dict) else []
        for policy in existing:
            if (policy.get("name"), policy.get("type", "branch")) != (allowed["name"], allowed["type"]):
                send("DELETE", f"{base}/environments/{name}/deployment-branch-policies/{policy['id']}", None)
                done.append(f"environment {name}: removed the rule for {policy.get('name')!r}")
        if not any((p.get("name"), p.get("type", "branch")) == (allowed["name"], allowed["type"]) for p in existing):
            send("POST", f"{base}/environments/{name}/deployment-branch-policies", dict(allowed))
    if reviewer_ids:
        done.append(f"environment prod: waits for {', '.join(prod_reviewers)}; nobody approves their own run")
    rulesets = send("GET", f"{base}/rulesets", None)
    by_name = {ruleset["name"]: ruleset["id"] for ruleset in rulesets} if isinstance(rulesets, list) else {}
    for name, ruleset in RULESETS.items():
        body = {"name": name, **ruleset}
        if name in by_name:
            send("PUT", f"{base}/rulesets/{by_name[name]}", body)
        else:
            send("POST", f"{base}/rulesets", body)
        done.append(f"ruleset {name!r}: {ruleset['target']} {ruleset['conditions']['ref_name']['include'][0]}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.github_settings", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", help="OWNER/REPO")
    parser.add_argument(
        "--prod-reviewer", action="append", default=[], metavar="LOGIN", help="a user who may approve prod deploys (repeat)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the requests instead of sending them (needs no token)")
    args = parser.parse_args(argv)
    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        parser.error(f"{args.repo!r} is not OWNER/REPO")
    if not args.prod_reviewer:
        parser.error("name at least one --prod-reviewer: prod deploys wait for one of them")
    if args.dry_run:
        send: Send = Recorder()
    else:
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        if not token:
            parser.error("set GITHUB_TOKEN (e.g. GITHUB_TOKEN=$(gh auth token)), or use --dry-run")
        send = api(token)
    try:
        for line in configure(args.repo, args.prod_reviewer, send):
            print(line, file=sys.stderr if args.dry_run else sys.stdout)
    except GitHubError as error:
        print(f"github_settings: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
