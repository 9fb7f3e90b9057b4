"""The GitHub Actions workflows: valid against GitHub's workflow schema, and what matters about
them: which events test and deploy what, OIDC only (no AWS keys anywhere), prod behind its
environment, a smoke test after every deploy."""

import re
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from shoplocal.template import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = PROJECT_ROOT / ".venv-scan" / "bin" / "check-jsonschema"
SAMCONFIG = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())


def load(path: Path) -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as the boolean true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


PIPELINE = load(WORKFLOWS / "pipeline.yml")
JOBS: dict[str, dict[str, Any]] = PIPELINE["jobs"]


# --- a small evaluator of the `if:` expressions GitHub would evaluate --------------------------

_TOKEN = re.compile(r"\s*(?:('[^']*')|(&&|\|\||==|!=|[(),!])|([A-Za-z_][\w.-]*))")


def _tokens(expression: str) -> list[str]:
    expression = expression.strip().removeprefix("${{").removesuffix("}}")
    tokens, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        assert match, f"cannot read {expression[position:]!r}"
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


def evaluate(expression: str, context: dict[str, str]) -> Any:
    """`==`, `!=`, `&&`, `||`, `!`, parentheses, string literals, context values and
    startsWith(), as GitHub's expression syntax defines them (string comparisons ignore case)."""
    tokens = _tokens(expression)

    def primary() -> Any:
        token = tokens.pop(0)
        if token == "(":
            value = disjunction()
            assert tokens.pop(0) == ")"
            return value
        if token == "!":
            return not primary()
        if token.startswith("'"):
            return token[1:-1]
        if token == "startsWith":
            assert tokens.pop(0) == "("
            text = disjunction()
            assert tokens.pop(0) == ","
            prefix = disjunction()
            assert tokens.pop(0) == ")"
            return str(text).lower().startswith(str(prefix).lower())
        assert token in context, f"unknown context value {token}"
        return context[token]

    def comparison() -> Any:
        left = primary()
        while tokens and tokens[0] in ("==", "!="):
            operator, right = tokens.pop(0), primary()
            equal = str(left).lower() == str(right).lower()
            left = equal if operator == "==" else not equal
        return left

    def conjunction() -> Any:
        value = comparison()
        while tokens and tokens[0] == "&&":
            tokens.pop(0)
            right = comparison()
            value = value and right
        return value

    def disjunction() -> Any:
        value = conjunction()
        while tokens and tokens[0] == "||":
            tokens.pop(0)
            right = conjunction()
            value = value or right
        return value

    result = disjunction()
    assert not tokens, f"unread tokens {tokens}"
    return result


def triggers(event: str, ref: str) -> bool:
    """Whether the workflow's `on:` filters let this event run it at all."""
    on = PIPELINE["on"]
    if event not in on:
        return False
    filters = on[event] or {}
    if event == "push" and ref.startswith("refs/tags/"):
        return any(fnmatch(ref.removeprefix("refs/tags/"), pattern) for pattern in filters.get("tags", []))
    if event == "push":
        return any(fnmatch(ref.removeprefix("refs/heads/"), pattern) for pattern in filters.get("branches", ["**"]))
    return "branches" not in filters  # pull requests: every target branch


def jobs_run_by(event: str, ref: str) -> set[str]:
    if not triggers(event, ref):
        return set()
    context = {"github.event_name": event, "github.ref": ref}
    ran: set[str] = set()
    for name, job in JOBS.items():  # jobs are listed after the jobs they need
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if all(need in ran for need in needs) and ("if" not in job or evaluate(str(job["if"]), context)):
            ran.add(name)
    return ran


# --- the tests ----------------------------------------------------------------------------------


def test_every_workflow_is_valid_against_githubs_workflow_schema() -> None:
    assert CHECK_JSONSCHEMA.exists(), "the scanners' virtualenv is missing: run `make install`"
    files = sorted(str(path) for path in WORKFLOWS.glob("*.y*ml"))
    assert files
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("event", "ref", "expected"),
    [
        ("push", "refs/heads/main", {"test", "deploy-dev"}),
        ("push", "refs/heads/feature/faster-listing", {"test"}),
        ("push", "refs/tags/v1.4.0", {"test", "deploy-prod"}),
        ("push", "refs/tags/experiment", set()),
        ("pull_request", "refs/pull/12/merge", {"test"}),
    ],
)
def test_which_events_test_and_deploy_what(event: str, ref: str, expected: set[str]) -> None:
    assert jobs_run_by(event, ref) == expected


def test_make_test_is_what_the_test_job_runs_and_every_deploy_waits_for_it() -> None:
    assert [step["run"] for step in JOBS["test"]["steps"] if "run" in step] == ["make test"]
    assert "if" not in JOBS["test"]
    for name in ("deploy-dev", "deploy-prod"):
        assert JOBS[name]["needs"] == "test"


@pytest.mark.parametrize(("job", "config_env"), [("deploy-dev", "default"), ("deploy-prod", "prod")])
def test_each_deploy_job_deploys_its_samconfig_stack_then_smoke_tests_it(job: str, config_env: str) -> None:
    steps = JOBS[job]["steps"]
    runs = [str(step.get("run", "")) for step in steps]
    (deploy,) = [index for index, run in enumerate(runs) if "sam deploy" in run]
    (smoke,) = [index for index, run in enumerate(runs) if "pipeline/smoke_test.py" in run]
    assert deploy < smoke
    assert f"--config-env {config_env}" in runs[deploy]
    assert JOBS[job]["env"]["STACK_NAME"] == SAMCONFIG[config_env]["global"]["parameters"]["stack_name"]
    assert '--stack-name "$STACK_NAME"' in runs[smoke]
    assert "--no-confirm-changeset" in runs[deploy]
    assert '--stack-name "$STACK_NAME" --role-arn "$CLOUDFORMATION_EXECUTION_ROLE"' in runs[deploy]
    assert (PROJECT_ROOT / "pipeline" / "smoke_test.py").is_file()


def test_prod_is_gated_by_its_environment_and_dev_is_not() -> None:
    assert JOBS["deploy-prod"]["environment"] == "prod"
    assert "environment" not in JOBS["deploy-dev"]


@pytest.mark.parametrize("job", ["deploy-dev", "deploy-prod"])
def test_deploys_assume_a_role_through_oidc(job: str) -> None:
    assert JOBS[job]["permissions"] == {"contents": "read", "id-token": "write"}
    uses = "aws-actions/configure-aws-credentials@"
    (credentials,) = [step for step in JOBS[job]["steps"] if str(step.get("uses", "")).startswith(uses)]
    inputs = credentials["with"]
    assert inputs["role-to-assume"] == "${{ env.PIPELINE_EXECUTION_ROLE }}"
    assert JOBS[job]["env"]["PIPELINE_EXECUTION_ROLE"].startswith("${{ vars.")
    assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs)


def test_only_the_deploy_jobs_can_ask_for_an_identity_token() -> None:
    assert PIPELINE["permissions"] == {"contents": "read"}
    with_token = {name for name, job in JOBS.items() if job.get("permissions", {}).get("id-token") == "write"}
    assert with_token == {"deploy-dev", "deploy-prod"}


def test_no_static_credentials_anywhere_in_the_workflows() -> None:
    for path in WORKFLOWS.glob("*.y*ml"):
        text = path.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}|aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY", text), path
        assert not re.search(r"\$\{\{\s*secrets\.", text), f"{path}: the workflows need no secrets at all"


def test_actions_are_pinned_to_a_release() -> None:
    for path in WORKFLOWS.glob("*.y*ml"):
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), step["uses"]


def test_checkouts_keep_no_credentials() -> None:
    for job in JOBS.values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
