"""pipeline/: the per-stage deploy template (cfn-lint clean; roles trusted only by the dev or
prod environment; an execution role that covers template.yaml's resources, named after the stack,
cannot delete the table and cannot make a role that escapes the permissions boundary:
tests/test_boundary.py), the smoke test the workflow runs after each deploy, and the load test a user runs
against their own stack (bench/loadtest.py)."""

import http.server
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from fnmatch import fnmatch
from typing import Any

import pytest

from local_server import LocalServer, start_server
from pipeline import smoke_test
from shopctl.demo import DEMO_USERS
from shoplocal.gateway.routes import RouteTable
from shoplocal.template import PROJECT_ROOT, functions, load_template
from test_workflows import JOBS

STAGE_TEMPLATE = PROJECT_ROOT / "pipeline" / "stage.yaml"
STAGE = load_template(STAGE_TEMPLATE)
CFN_LINT = PROJECT_ROOT / ".venv-sam" / "bin" / "cfn-lint"
OIDC = "token.actions.githubusercontent.com"
NUMBER_WORDS = {3: "three", 7: "seven", 8: "eight"}

# The resources SAM expands each of its own types into (sam validate shows them).
SAM_EXPANDS = {
    "AWS::Serverless::Function": [
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        # DeploymentPreference: a CodeDeploy application (one per stack) and a group per function.
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentGroup",
    ],
    "AWS::Serverless::HttpApi": ["AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"],
    "AWS::Serverless::LayerVersion": ["AWS::Lambda::LayerVersion"],
}
# CloudFormation's resource handlers list every permission any of their features may use
# (cfn-lint ships those schemas); these belong to features template.yaml does not use.
UNUSED_FEATURES = {
    "customer-managed KMS keys": ["kms:*", "logs:AssociateKmsKey", "logs:DisassociateKmsKey"],
    "VPCs and file systems": ["ec2:*", "elasticfilesystem:*", "s3files:*"],
    "Kinesis and Firehose destinations": ["kinesis:*", "firehose:*", "dynamodb:*KinesisStreamingDestination", "s3:REST.*"],
    "table imports": ["dynamodb:ImportTable", "dynamodb:DescribeImport", "dynamodb:BatchWriteItem", "dynamodb:PutItem",
                      "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
                      "s3:GetObjectMetadata", "s3:ListBucket", "logs:CreateLogStream", "logs:DescribeLogStreams",
                      "logs:PutLogEvents"],
    "global tables, table resource policies, contributor insights": [
        "dynamodb:*TableReplica", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
        "dynamodb:UpdateContributorInsights", "iam:CreateServiceLinkedRole"],
    "deleting the table: a deploy never does (DeletionPolicy: Retain)": ["dynamodb:DeleteTable"],
    "code signing, runtime and recursion settings, capacity providers, provisioned concurrency (SnapStart excludes it)": [
        "lambda:*CodeSigningConfig", "lambda:GetCodeSigningConfig", "lambda:AssociateRuntimeAlias",
        "lambda:PassCapacityProvider", "lambda:Put*Config", "lambda:DeleteProvisionedConcurrencyConfig"],
    "CodeDeploy for EC2 and on-premises servers": ["codedeploy:RegisterOnPremisesInstance"],
    "removing a boundary, changing a trust policy or a role's description (none takes the boundary condition)": [
        "iam:DeleteRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole*"],
    "the stack's own boundary, made only by a deploy with your own credentials (the pipeline passes its own)": [
        "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
        "iam:GetPolicyVersion", "iam:ListPolicyVersions",
        "iam:ListEntitiesForPolicy", "iam:AttachGroupPolicy", "iam:AttachUserPolicy", "iam:DetachGroupPolicy",
        "iam:DetachUserPolicy"],
    "data protection, index and resource policies, deletion protection, bearer tokens of log groups": [
        "logs:PutDataProtectionPolicy", "logs:DeleteDataProtectionPolicy", "logs:*IndexPolicy", "logs:DeleteResourcePolicy",
        "logs:PutLogGroupDeletionProtection", "logs:PutBearerTokenAuthentication", "sns:PutDataProtectionPolicy"],
    "secret replication": ["secretsmanager:ReplicateSecretToRegions", "secretsmanager:RemoveRegionsFromReplication"],
    "CloudFront connection groups, VPC origins and staging distributions": [
        "cloudfront:*ConnectionGroup", "cloudfront:GetVpcOrigin", "cloudfront:UpdateDistributionWithStagingConfig"],
    "S3 metadata tables and table buckets, and object ACLs (the bucket enforces its owner)": [
        "s3:*BucketMetadata*", "s3tables:*", "s3:PutObjectAcl"],
    "names in S3's and CloudFront's handler lists that IAM does not know (authorized by the actions granted)": [
        "s3:DeleteBucketAnalyticsConfiguration", "s3:DeleteBucketCors", "s3:DeleteBucketEncryption",
        "s3:DeleteBucketLifecycle", "s3:DeleteBucketMetricsConfiguration", "s3:DeleteBucketReplication",
        "s3:PutBucketReplication", "s3:PutObjectLockConfiguration", "cloudfront:CreateDistributionWithTags"],
    "API Gateway tag actions (its tags go through POST/DELETE on /tags, granted)": ["apigateway:TagResource",
                                                                                    "apigateway:UntagResource"],
}  # fmt: skip
# Not in any handler's list, but API Gateway needs them from the caller to set up access logging.
ACCESS_LOG_DELIVERY = {"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                       "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"}  # fmt: skip
# Actions that have no resource-level permissions: the only ones allowed on "*".
UNSCOPABLE = {
    "cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate", "secretsmanager:GetRandomPassword",
    "logs:DescribeLogGroups", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "cloudwatch:DescribeAlarms", "codedeploy:StopDeployment",
    "lambda:CreateEventSourceMapping",  # scoped by its condition on the function (pipeline/stage.yaml)
}  # fmt: skip


def statements(role: str) -> list[dict[str, Any]]:
    policies = STAGE["Resources"][role]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def test_cfn_lint_passes() -> None:
    assert CFN_LINT.exists(), "the SAM CLI virtualenv (which has cfn-lint) is missing: run `make install`"
    result = subprocess.run([str(CFN_LINT), str(STAGE_TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_dev_or_prod_environment_of_this_repository_can_assume_the_pipeline_role() -> None:
    (trust,) = STAGE["Resources"]["PipelineExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {
        "StringEquals": {
            f"{OIDC}:aud": "sts.amazonaws.com",
            f"{OIDC}:sub": {"Fn::Sub": "repo:${GitHubOrg}/${GitHubRepo}:${DeployFrom}"},
        }
    }
    parameters = STAGE["Parameters"]
    assert parameters["DeployFrom"]["AllowedValues"] == ["environment:dev", "environment:prod"]
    for name in ("GitHubOrg", "GitHubRepo"):  # no wildcard or path can widen the subject
        for widening in ("*", "my-org/*", "a?c", "repo:x"):
            assert re.fullmatch(parameters[name]["AllowedPattern"], widening) is None, (name, widening)


@pytest.mark.parametrize("job", ["deploy-dev", "deploy-prod"])
def test_each_deploy_job_gets_a_token_its_stage_role_trusts(job: str) -> None:
    """GitHub's `sub` claim names the environment of a job that has one: each deploy job has its
    stage's, whose branch and tag rules pipeline/github_settings.py sets."""
    environment = JOBS[job]["environment"]
    assert job == f"deploy-{environment}"
    assert f"environment:{environment}" in STAGE["Parameters"]["DeployFrom"]["AllowedValues"]


def test_the_pipeline_role_can_pass_only_the_cloudformation_execution_role() -> None:
    (pass_role,) = [s for s in statements("PipelineExecutionRole") if "iam:PassRole" in actions(s)]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}


@pytest.mark.parametrize("role", ["PipelineExecutionRole", "CloudFormationExecutionRole"])
def test_no_wildcard_actions_and_only_unscopable_ones_on_every_resource(role: str) -> None:
    for statement in statements(role):
        assert statement["Effect"] == "Allow"
        assert not any("*" in action for action in actions(statement)), statement
        if statement["Resource"] == "*":
            assert actions(statement) <= UNSCOPABLE, statement["Sid"]


def handler_permissions() -> dict[str, set[str]]:
    """Per resource type of template.yaml (as deployed, after SAM's expansion), the permissions
    CloudFormation's handlers may use to create, read, update and delete it, from the resource
    schemas cfn-lint ships."""
    (schemas,) = (PROJECT_ROOT / ".venv-sam").glob("lib/python*/site-packages/cfnlint/data/schemas")
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    types = {
        expanded
        for resource in load_template()["Resources"].values()
        for expanded in SAM_EXPANDS.get(resource["Type"], [resource["Type"]])
    }
    needed = {}
    for resource_type in sorted(types):
        handlers = json.loads((schemas / "resources" / f"{providers[resource_type]}.json").read_text())["handlers"]
        needed[resource_type] = {
            p.lower() for kind in ("create", "read", "update", "delete") for p in handlers.get(kind, {}).get("permissions", [])
        }
    return needed


def granted_to(role: str) -> set[str]:
    return {action.lower() for statement in statements(role) for action in actions(statement)}


def test_the_execution_role_may_do_all_cloudformation_needs_for_the_applications_resources() -> None:
    unused = [pattern.lower() for patterns in UNUSED_FEATURES.values() for pattern in patterns]
    granted = granted_to("CloudFormationExecutionRole")
    for resource_type, permissions in handler_permissions().items():
        missing = {p for p in permissions - granted if not any(fnmatch(p, pattern) for pattern in unused)}
        assert not missing, f"{resource_type} needs {sorted(missing)}: grant them, or list the unused feature they serve"


def test_the_execution_role_may_do_nothing_else() -> None:
    needed = set().union(*handler_permissions().values())
    assert granted_to("CloudFormationExecutionRole") - needed <= {action.lower() for action in ACCESS_LOG_DELIVERY}


def test_the_execution_role_cannot_delete_the_table_or_attach_other_managed_policies() -> None:
    granted = {action for statement in statements("CloudFormationExecutionRole") for action in actions(statement)}
    assert "dynamodb:DeleteTable" not in granted
    (attach,) = [s for s in statements("CloudFormationExecutionRole") if "iam:AttachRolePolicy" in actions(s)]
    allowed = attach["Condition"]["ArnEquals"]["iam:PolicyARN"]
    assert [value["Fn::Sub"].rsplit("/", 1)[1] for value in allowed] == ["AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"]


def test_the_execution_role_publishes_versions_and_moves_aliases_of_the_stacks_functions_only() -> None:
    """Every deploy publishes versions and moves the alias `live` (template.yaml's Globals); a
    version's and an alias's ARN are the function's with a qualifier, which the pattern covers."""
    (functions,) = [s for s in statements("CloudFormationExecutionRole") if "lambda:PublishVersion" in actions(s)]
    assert {"lambda:PublishVersion", "lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias"} <= (
        actions(functions)
    )
    assert functions["Resource"]["Fn::Sub"].endswith(":function:${AppStackName}-*")
    pattern = functions["Resource"]["Fn::Sub"].replace("${AppStackName}", "shop-api-dev")
    arn = pattern.replace("shop-api-dev-*", "shop-api-dev-AuthFunction-a1B2c3")
    for qualified in (arn, f"{arn}:7", f"{arn}:live"):
        assert fnmatch(qualified, pattern)
    assert not fnmatch(arn.replace("shop-api-dev", "other-stack"), pattern)
    lambda_statements = [s for s in statements("CloudFormationExecutionRole") if any(a.startswith("lambda:") for a in actions(s))]
    assert [s["Sid"] for s in lambda_statements] == [
        "Functions",
        "TheSharedLayer",
        "CreateEventSourceMappingsOfTheStacksFunctions",
        "EventSourceMappings",
    ]
    (create,) = [s for s in lambda_statements if s["Sid"] == "CreateEventSourceMappingsOfTheStacksFunctions"]
    assert create["Condition"]["ArnLike"]["lambda:FunctionArn"]["Fn::Sub"].endswith(":function:${AppStackName}-*")
    (mappings,) = [s for s in lambda_statements if s["Sid"] == "EventSourceMappings"]
    assert mappings["Resource"]["Fn::Sub"].endswith(":event-source-mapping:*")  # named by UUID, no stack prefix


# --- the smoke test ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    running = start_server(tmp_path_factory.mktemp("smoke") / "data")
    yield running
    assert running.stop() == 0


def test_the_smoke_test_passes_against_a_working_api(server: LocalServer) -> None:
    assert smoke_test.run(server.api_url) == []


def test_the_smoke_test_reaches_every_function_behind_the_api_and_names_the_others() -> None:
    specs = functions()
    routes = RouteTable(specs.values())
    reached = set()
    for check in smoke_test.checks():
        match = routes.match(check.method, check.path.split("?")[0])
        assert match is not None, check
        reached.add(match.spec.logical_id)
    behind_the_api = {logical_id for logical_id, spec in specs.items() if spec.routes}
    assert reached == behind_the_api
    # The docstring says how many it reaches, and names each function it does not, by folder.
    doc = smoke_test.__doc__ or ""
    assert f"each of the {NUMBER_WORDS[len(reached)]} functions behind the API" in doc
    for logical_id in specs.keys() - behind_the_api:
        folder = specs[logical_id].package
        assert f"{folder}: " in doc, folder
    assert f"It does not reach the {NUMBER_WORDS[len(specs) - len(behind_the_api)]} functions no request invokes" in doc


class _Broken(http.server.BaseHTTPRequestHandler):
    """An API whose every answer is an internal error."""

    def _fail(self) -> None:
        body = b'{"message":"Internal Server Error"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *_: Any) -> None:
        pass


def test_the_smoke_test_fails_on_a_broken_api() -> None:
    broken = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    thread = threading.Thread(target=broken.serve_forever, daemon=True)
    thread.start()
    try:
        problems = smoke_test.run(f"http://127.0.0.1:{broken.server_address[1]}")
    finally:
        broken.shutdown()
    assert len(problems) == len(smoke_test.checks())
    assert all("got 500" in problem for problem in problems)


def test_the_smoke_test_forges_tokens_only_the_real_key_can_refuse() -> None:
    import jwt

    token = smoke_test.forged_token("access")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"token_type", "user_id", "iat", "exp", "jti"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "the real signing key, which the smoke test never has", algorithms=["HS256"])


# --- the load test (bench/loadtest.py), against the same local API ----------------------------


def loadtest(api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "loadtest.py"), "--api-url", api_url, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def table(output: str) -> dict[str, dict[str, str]]:
    """The report's rows by endpoint, each column by its header."""
    lines = [line for line in output.splitlines() if line.startswith("| ")]
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(headers, (cell.strip() for cell in line.strip("|").split("|")), strict=True)) for line in lines[1:]]
    return {row["endpoint"]: row for row in rows}


def test_the_load_test_sends_at_most_the_requests_it_is_allowed(server: LocalServer) -> None:
    customer = next(user for user in DEMO_USERS if not user.is_staff)
    bounds = ["--rate", "20", "--duration", "1", "--max-requests", "12"]
    result = loadtest(server.api_url, *bounds, "--username", customer.username, "--password", customer.password)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = table(result.stdout)
    assert rows["POST /api/auth"]["requests"] == "1"  # one sign-in, before the bounded run
    assert sum(int(row["requests"]) for name, row in rows.items() if name != "POST /api/auth") == 12
    assert all(row["requests"] == row["2xx"] for row in rows.values())
    assert "POST /api/order" not in rows  # orders only when asked for (they take stock)


def test_the_load_test_fails_when_the_api_answers_5xx() -> None:
    broken = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=broken.serve_forever, daemon=True).start()
    try:
        result = loadtest(f"http://127.0.0.1:{broken.server_address[1]}", "--rate", "50", "--max-requests", "5")
    finally:
        broken.shutdown()
    assert result.returncode == 1
    assert table(result.stdout)["GET /api/products"]["5xx"] == "5"


@pytest.mark.parametrize(
    "arguments",
    [["--order-product", "1"], ["--username", "demo"], ["--rate", "0"], ["--duration", "-1"]],
)
def test_the_load_test_refuses_unsafe_or_meaningless_arguments(arguments: list[str]) -> None:
    result = loadtest("http://127.0.0.1:9", *arguments)
    assert result.returncode == 2
    assert "error:" in result.stderr
