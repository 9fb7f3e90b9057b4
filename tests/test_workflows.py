"""The GitHub Actions workflows: valid against GitHub's workflow schema and clean for zizmor,
and what matters about them: which events test, build and deploy what, one build without
credentials that every stage deploys, OIDC only (no AWS keys anywhere), both stages behind their
environments, actions pinned to commits, nothing installed once credentials are held, a smoke
test after every deploy."""

import json
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from shoplocal.template import PROJECT_ROOT

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = PROJECT_ROOT / ".venv-scan" / "bin" / "check-jsonschema"
ZIZMOR = PROJECT_ROOT / ".venv-scan" / "bin" / "zizmor"
DEPLOY_JOBS = ("deploy-dev", "deploy-prod")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"
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
        ("push", "refs/heads/main", {"test", "build", "deploy-dev"}),
        ("push", "refs/heads/feature/faster-listing", {"test"}),
        # A release tag promotes main's build of its commit: nothing is tested or built again.
        ("push", "refs/tags/v1.4.0", {"deploy-prod"}),
        ("push", "refs/tags/experiment", set()),
        ("pull_request", "refs/pull/12/merge", {"test"}),
    ],
)
def test_which_events_test_and_deploy_what(event: str, ref: str, expected: set[str]) -> None:
    assert jobs_run_by(event, ref) == expected


def test_make_test_is_what_the_test_job_runs_and_the_build_waits_for_it() -> None:
    assert [step["run"] for step in JOBS["test"]["steps"] if "run" in step] == ["make test"]
    assert JOBS["build"]["needs"] == "test"
    assert JOBS["deploy-dev"]["needs"] == "build"
    assert "needs" not in JOBS["deploy-prod"]  # its build comes from main's run (below)


def test_the_build_holds_no_credentials_and_installs_only_hash_pinned_packages() -> None:
    build = JOBS["build"]
    assert build["permissions"] == {"contents": "read"}
    uses = [str(step.get("uses", "")) for step in build["steps"]]
    assert not any(use.startswith(CREDENTIALS_ACTION) for use in uses)
    runs = [str(step.get("run", "")) for step in build["steps"]]
    installs = [run for run in runs if "pip install" in run]
    assert installs == [run for run in installs if "--require-hashes" in run and "-r requirements-sam.txt" in run]
    assert len(installs) == 1
    assert not any("make " in run for run in runs)  # not the development toolchain
    (sam_build,) = [run for run in runs if "sam build" in run]
    assert "--build-dir build" in sam_build
    (upload,) = [step for step in build["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["with"]["name"] == "shop-api-${{ github.sha }}"
    assert upload["with"]["path"] == "build/"
    assert any("sha256sum" in run for run in runs)


@pytest.mark.parametrize("job", DEPLOY_JOBS)
def test_deploys_install_before_credentials_and_deploy_the_downloaded_build(job: str) -> None:
    steps = JOBS[job]["steps"]
    (credentials,) = [i for i, step in enumerate(steps) if str(step.get("uses", "")).startswith(CREDENTIALS_ACTION)]
    (download,) = [i for i, step in enumerate(steps) if str(step.get("uses", "")).startswith("actions/download-artifact@")]
    (check,) = [i for i, step in enumerate(steps) if "sha256sum" in str(step.get("run", ""))]
    assert download < check < credentials
    assert steps[download]["with"]["name"] == "shop-api-${{ github.sha }}"
    for index, step in enumerate(steps):
        run = str(step.get("run", ""))
        if "pip install" in run:
            assert index < credentials, "nothing is installed while credentials are held"
            assert "--require-hashes" in run
        assert "make " not in run
        assert "sam build" not in run, "the deploy jobs deploy the build job's output, never their own"
    (deploy,) = [str(step["run"]) for step in steps if "sam deploy" in str(step.get("run", ""))]
    assert "--template-file build/template.yaml" in deploy
    assert '"PermissionsBoundary=$PERMISSIONS_BOUNDARY"' in deploy
    assert (
        JOBS[job]["env"]["PERMISSIONS_BOUNDARY"] == f"${{{{ vars.{job.removeprefix('deploy-').upper()}_PERMISSIONS_BOUNDARY }}}}"
    )


def test_prod_deploys_the_build_that_mains_successful_run_of_the_same_commit_deployed_to_dev() -> None:
    steps = JOBS["deploy-prod"]["steps"]
    (find,) = [step for step in steps if step.get("id") == "tested"]
    command = " ".join(str(find["run"]).split())
    for part in ("gh run list", "--workflow pipeline.yml", "--branch main", "--event push", '--commit "$GITHUB_SHA"',
                 "--status success"):  # fmt: skip
        assert part in command, part
    (download,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/download-artifact@")]
    assert download["with"]["run-id"] == "${{ steps.tested.outputs.run-id }}"
    assert JOBS["deploy-prod"]["permissions"]["actions"] == "read"


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


def test_each_stage_is_deployed_from_its_own_environment() -> None:
    """The environments' rules (main only for dev; `v*` tags, a reviewer and no self-review for
    prod) are set by pipeline/github_settings.py: tests/test_github_settings.py."""
    assert JOBS["deploy-dev"]["environment"] == "dev"
    assert JOBS["deploy-prod"]["environment"] == "prod"


@pytest.mark.parametrize("job", DEPLOY_JOBS)
def test_deploys_assume_a_role_through_oidc(job: str) -> None:
    assert {"contents": "read", "id-token": "write"}.items() <= JOBS[job]["permissions"].items()
    (credentials,) = [step for step in JOBS[job]["steps"] if str(step.get("uses", "")).startswith(CREDENTIALS_ACTION)]
    inputs = credentials["with"]
    assert inputs["role-to-assume"] == "${{ env.PIPELINE_EXECUTION_ROLE }}"
    assert JOBS[job]["env"]["PIPELINE_EXECUTION_ROLE"].startswith("${{ vars.")
    assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs)


def test_only_the_deploy_jobs_can_ask_for_an_identity_token() -> None:
    assert PIPELINE["permissions"] == {}
    assert all("permissions" in job for job in JOBS.values())
    with_token = {name for name, job in JOBS.items() if job.get("permissions", {}).get("id-token") == "write"}
    assert with_token == {"deploy-dev", "deploy-prod"}


def test_no_static_credentials_anywhere_in_the_workflows() -> None:
    for path in WORKFLOWS.glob("*.y*ml"):
        text = path.read_text()
        assert not re.search(r"AKIA[0-9A-Z]{16}|aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY", text), path
        assert not re.search(r"\$\{\{\s*secrets\.", text), f"{path}: the workflows need no secrets at all"


def test_actions_are_pinned_to_a_commit_with_its_release_named() -> None:
    """A tag can be moved to other code; a commit SHA cannot. The comment says which release it
    is (Dependabot updates both)."""
    for path in WORKFLOWS.glob("*.y*ml"):
        uses = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith(("uses:", "- uses:"))]
        assert uses
        for line in uses:
            assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_zizmor_finds_nothing_even_as_an_auditor() -> None:
    assert ZIZMOR.exists(), "the scanners' virtualenv is missing: run `make install`"
    command = [str(ZIZMOR), "--offline", "--persona", "auditor", "--format", "json", str(WORKFLOWS.parent)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_dependabot_updates_the_actions_and_every_python_pin() -> None:
    config = yaml.safe_load((PROJECT_ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert ecosystems["github-actions"]["directory"] == "/"
    pip_directories = set(ecosystems["pip"]["directories"])
    requirement_files = {f"/{path.parent.relative_to(PROJECT_ROOT)}".replace("/.", "/")
                         for path in PROJECT_ROOT.glob("**/requirements*.txt") if ".venv" not in path.parts[-6:]
                         and not any(part.startswith(".venv") for part in path.relative_to(PROJECT_ROOT).parts)}  # fmt: skip
    assert requirement_files <= pip_directories


def test_checkouts_keep_no_credentials() -> None:
    for job in JOBS.values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


# --- pipeline/overrides.py: samconfig.toml's parameter overrides and the pipeline's --------------


def overrides(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline.overrides", *arguments]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("config_env", ["default", "prod"])
def test_the_deploy_keeps_samconfigs_overrides_and_adds_the_boundary(config_env: str) -> None:
    boundary = "arn:aws:iam::123456789012:policy/shop-api-prod-boundary"
    result = overrides("--config-env", config_env, f"PermissionsBoundary={boundary}", "AlarmEmail=")
    assert result.returncode == 0, result.stderr
    passed = dict(pair.split("=", 1) for pair in result.stdout.split())
    samconfig = dict(pair.split("=", 1) for pair in SAMCONFIG[config_env]["deploy"]["parameters"]["parameter_overrides"].split())
    assert passed == {**samconfig, "PermissionsBoundary": boundary}  # an empty value is left out


def test_samconfig_makes_dev_all_at_once_and_prod_gradual() -> None:
    parameters = {env: SAMCONFIG[env]["deploy"]["parameters"]["parameter_overrides"].split() for env in ("default", "prod")}
    assert {"Stage=dev", "DeploymentType=AllAtOnce"} <= set(parameters["default"])
    assert "Stage=prod" in parameters["prod"]
    assert not any(item.startswith("DeploymentType=AllAtOnce") for item in parameters["prod"])


def test_overrides_refuse_values_sam_could_not_read() -> None:
    result = overrides("--config-env", "prod", "AlarmEmail=a b@example.com")
    assert result.returncode == 2
    assert "not Name=value" in result.stderr or "space or a quote" in result.stderr
    assert overrides("--config-env", "nowhere").returncode == 2
