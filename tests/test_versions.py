"""Published versions, the alias `live` and SnapStart, on the template as SAM translates it.

SnapStart works on published versions only, so every function publishes a version that the API
and the photos bucket invoke through the alias `live`. SAM names a version after the function's
properties as written, before parameter values are substituted (aws/serverless-application-model
#3820), so a deploy that changes only a parameter would leave the alias on the old configuration.
Each function therefore carries the values of every parameter it uses in its VersionDescription
(resolved by CloudFormation at deploy time; a new description replaces the version) and in its
STACK_SETTINGS variable (so $LATEST changes too, and Lambda publishes a new number instead of
answering with the version the alias already has). docs/performance.md#snapstart.

Each test translates template.yaml with the SAM translator of the SAM CLI's virtualenv (the
project's own virtualenv does not have it), packaged as `sam package` leaves it: code and layer
as S3 locations.
"""

import copy
import json
import os
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from shoplocal.template import PROJECT_ROOT, functions, load_template, parameter_defaults, resolved_environment

SAM_PYTHON = PROJECT_ROOT / ".venv-sam" / "bin" / "python"
ARTIFACTS = "s3://shop-artifacts/shop-api-dev"
ALIAS = "live"
DESCRIPTION_LIMIT = 256  # characters of a Lambda version's description

TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:  # the template names no managed policy by name: nothing to look up
    def load(self):
        return {}

answers = [transform(template, parameters, NoManagedPolicies()) for template, parameters in json.load(sys.stdin)]
json.dump(answers, sys.stdout)
"""

TEMPLATE = load_template()
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE["Parameters"]
FUNCTIONS = sorted(functions())
# Every pattern-checked whole-number parameter and the range its pattern must be exactly.
NUMBER_RANGES = {
    "AccessTokenLifetimeSeconds": (60, 86400),
    "RefreshTokenLifetimeSeconds": (300, 2592000),
    "OrderCancelWindowMinutes": (0, 999999),
    **{name: (0, 99999) for name in PARAMETERS if name.endswith("ReservedConcurrency")},
}
# Values to try as "another value" for parameters with a pattern; the first that is valid and
# differs from the default is used. A new parameter whose pattern none fits fails with a message.
CANDIDATES = ["1", "0", "61", "301", "7200", "http://host.docker.internal:8000", "EUR"]


# --- translating -------------------------------------------------------------------------------


def packaged(code: dict[str, str] | None = None, layer: str = "v1", template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template as `sam package` uploads it: each function's code and the layer's content as
    S3 locations (`code` gives a function another key, `layer` the layer another key)."""
    result = copy.deepcopy(template or TEMPLATE)
    for logical_id, resource in result["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"{ARTIFACTS}/{logical_id}-{(code or {}).get(logical_id, 'v1')}"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"{ARTIFACTS}/{logical_id}-{layer}"
    return result


def translate(*deployments: tuple[dict[str, Any], dict[str, str]]) -> list[dict[str, Any]]:
    """The CloudFormation templates SAM makes of (packaged template, parameter overrides) pairs."""
    assert SAM_PYTHON.exists(), "the SAM CLI virtualenv is missing: run `make install`"
    environment = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1"}
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", TRANSLATE],
        input=json.dumps(deployments),
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    translated: list[dict[str, Any]] = json.loads(result.stdout)
    return translated


@cache
def baseline() -> dict[str, Any]:
    (template,) = translate((packaged(), {}))
    return template


def resources_of(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == resource_type}


def version_of(template: dict[str, Any], function: str) -> tuple[str, dict[str, Any]]:
    """The function's one AWS::Lambda::Version: its logical id and the resource."""
    (version,) = [
        (name, resource)
        for name, resource in resources_of(template, "AWS::Lambda::Version").items()
        if resource["Properties"]["FunctionName"] == {"Ref": function}
    ]
    return version


# --- what CloudFormation does with parameters at deploy time -----------------------------------


def parameter_values(overrides: dict[str, str] | None = None) -> dict[str, str]:
    return {**parameter_defaults(), **(overrides or {})}


def deployed(value: Any, parameters: dict[str, str]) -> Any:
    """`value` with Refs to parameters and Fn::Sub strings of them resolved, as CloudFormation
    resolves them when it deploys; anything else is left as it is."""
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}!.]+)\}", lambda match: parameters.get(match[1], match[0]), value["Fn::Sub"])
    return value


def settings(template: dict[str, Any], function: str, parameters: dict[str, str]) -> tuple[str, str, str]:
    """The function's version as deployed (logical id, resolved description) and its resolved
    STACK_SETTINGS variable."""
    name, version = version_of(template, function)
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return name, deployed(version["Properties"]["Description"], parameters), deployed(variables["STACK_SETTINGS"], parameters)


# --- which parameters each function uses -------------------------------------------------------


def references(value: Any) -> Iterator[tuple[str, str]]:
    """("name", X) for every Ref and Fn::Sub variable, ("condition", X) for every condition an
    Fn::If or a Condition names, anywhere in `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield "name", item
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
                for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                    if name not in variables:
                        yield "name", name.split(".")[0]
                yield from references(variables)
            elif key == "Fn::If":
                yield "condition", item[0]
                yield from references(item[1:])
            elif key == "Condition" and isinstance(item, str):
                yield "condition", item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def parameters_used(value: Any) -> set[str]:
    """The template parameters `value` uses, directly or through conditions."""
    used, seen_conditions = set(), set()
    pending = list(references(value))
    while pending:
        kind, name = pending.pop()
        if kind == "name" and name in PARAMETERS:
            used.add(name)
        elif kind == "condition" and name not in seen_conditions:
            seen_conditions.add(name)
            pending.extend(references(TEMPLATE["Conditions"][name]))
    return used


# Properties that shape the function's role or its deployment, not its code or configuration:
# a new value changes the role or how `live` moves, and needs no new version.
NOT_THE_FUNCTIONS_OWN = ("PermissionsBoundary", "DeploymentPreference")


@cache
def parameters_of(function: str) -> frozenset[str]:
    """Every parameter the function's properties use, its own and those it takes from Globals."""
    properties = TEMPLATE["Resources"][function]["Properties"]
    own = [
        {key: value for key, value in part.items() if key not in NOT_THE_FUNCTIONS_OWN}
        for part in (TEMPLATE["Globals"]["Function"], properties)
    ]
    return frozenset(parameters_used(own))


def another_value(parameter: str) -> str:
    """A valid value of the parameter other than its default."""
    spec = PARAMETERS[parameter]
    default = str(spec.get("Default", ""))
    if "AllowedValues" in spec:
        return next(str(value) for value in spec["AllowedValues"] if str(value) != default)
    for candidate in CANDIDATES:
        fits = len(candidate) <= int(spec.get("MaxLength", len(candidate)))
        if candidate != default and fits and re.fullmatch(spec.get("AllowedPattern", ".*"), candidate):
            return candidate
    raise AssertionError(f"no other valid value for {parameter}: add one to CANDIDATES")


# --- the alias: what the API and the bucket invoke ---------------------------------------------


def test_every_function_publishes_a_version_behind_the_alias_live() -> None:
    template = baseline()
    for function in FUNCTIONS:
        version_id, _ = version_of(template, function)
        alias = template["Resources"][f"{function}Alias{ALIAS}"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        assert alias["Properties"] == {
            "Name": ALIAS,
            "FunctionName": {"Ref": function},
            "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
        }


def test_every_route_integrates_with_the_alias_not_latest() -> None:
    template = baseline()
    (api,) = resources_of(template, "AWS::ApiGatewayV2::Api").values()
    integrations = {
        # SAM writes the $default route's ANY as API Gateway's extension name.
        (method.upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"), path): operation["x-amazon-apigateway-integration"][
            "uri"
        ]["Fn::Sub"]
        for path, operations in api["Properties"]["Body"]["paths"].items()
        for method, operation in operations.items()
    }
    expected = {(route.method, route.path): spec.logical_id for spec in functions().values() for route in spec.routes}
    assert set(integrations) == set(expected)
    for route, function in expected.items():
        assert f"/functions/${{{function}Alias{ALIAS}}}/invocations" in integrations[route], route


def test_every_permission_and_the_bucket_notification_target_the_alias() -> None:
    template = baseline()
    aliases = {f"{function}Alias{ALIAS}" for function in FUNCTIONS}
    permissions = resources_of(template, "AWS::Lambda::Permission")
    assert len(permissions) == sum(len(spec.routes) for spec in functions().values()) + 1  # + the bucket's
    for name, permission in permissions.items():
        assert permission["Properties"]["FunctionName"]["Ref"] in aliases, name
    (notification,) = template["Resources"]["ImagesBucket"]["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert notification["Function"] == {"Ref": f"ImageCheckFunctionAlias{ALIAS}"}
    # Nothing invokes a function by its unqualified ARN ($LATEST): metrics and logs use its name.
    text = json.dumps(template)
    for function in FUNCTIONS:
        assert json.dumps({"Fn::GetAtt": [function, "Arn"]}) not in text, function


def test_lambda_alarms_watch_the_function_name_which_aggregates_every_version() -> None:
    """CloudWatch's FunctionName dimension alone sums all versions and aliases of a function: the
    alarms keep working whichever version `live` points to."""
    alarms = [
        a for a in resources_of(baseline(), "AWS::CloudWatch::Alarm").values() if a["Properties"].get("Namespace") == "AWS/Lambda"
    ]
    assert alarms
    for alarm in alarms:
        (dimension,) = alarm["Properties"]["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        assert dimension["Value"]["Ref"] in FUNCTIONS


def test_versions_left_behind_are_kept_and_replaced_ones_deleted() -> None:
    """A version resource whose logical id changed is kept (SAM's default, stated in Globals):
    when code and configuration did not change, Lambda answers with the existing number, which
    may be the one the alias points to. One replaced because its description changed is deleted
    once the alias has moved: the same settings changed $LATEST, so it was a new number. Retaining
    those would need UpdateReplacePolicy on the whole function, which SAM copies to its alias and
    every permission (leaving stale invoke permissions behind on each replacement)."""
    assert TEMPLATE["Globals"]["Function"]["VersionDeletionPolicy"] == "Retain"
    for function in FUNCTIONS:
        _, version = version_of(baseline(), function)
        assert version["DeletionPolicy"] == "Retain"
        assert "UpdateReplacePolicy" not in version
        assert "UpdateReplacePolicy" not in TEMPLATE["Resources"][function]


# --- a new version for every change ------------------------------------------------------------


def test_each_function_holds_the_values_of_exactly_the_parameters_it_uses() -> None:
    """Derived from the template, so a new parameter cannot be forgotten: the description and the
    variable name every parameter the function uses (directly, from Globals or through a condition)."""
    for function in FUNCTIONS:
        used = parameters_of(function)
        assert {"SnapStart", "LogLevel", "Tracing"} <= used, function
        properties = TEMPLATE["Resources"][function]["Properties"]
        description = properties["VersionDescription"]
        assert properties["Environment"]["Variables"]["STACK_SETTINGS"] == description, function
        assert parameters_used(description) == used, function


@cache
def parameter_changes() -> dict[str, dict[str, Any]]:
    """Per parameter any function uses, the template translated with another value of it."""
    names = sorted(set().union(*(parameters_of(function) for function in FUNCTIONS)))
    templates = translate(*[(packaged(), {name: another_value(name)}) for name in names])
    return dict(zip(names, templates, strict=True))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_new_value_of_any_parameter_the_function_uses_publishes_a_version_with_it(function: str) -> None:
    before = settings(baseline(), function, parameter_values())
    assert before[1] == before[2]
    for parameter in sorted(parameters_of(function)):
        overrides = {parameter: another_value(parameter)}
        after = settings(parameter_changes()[parameter], function, parameter_values(overrides))
        # A new logical id or a new description: either way CloudFormation makes a new version.
        assert after[:2] != before[:2], (function, parameter)
        # And $LATEST changes with it, so PublishVersion publishes a new number.
        assert after[2] != before[2], (function, parameter)
        assert after[1] == after[2], (function, parameter)


def test_a_parameter_a_function_does_not_use_leaves_its_version_alone() -> None:
    for parameter, template in parameter_changes().items():
        for function in FUNCTIONS:
            if parameter not in parameters_of(function):
                overrides = {parameter: another_value(parameter)}
                after = settings(template, function, parameter_values(overrides))
                assert after == settings(baseline(), function, parameter_values()), (function, parameter)


def test_new_code_a_new_layer_or_a_template_change_publishes_new_versions() -> None:
    edited = copy.deepcopy(TEMPLATE)
    edited["Globals"]["Function"]["Timeout"] = 11
    deployments: list[tuple[dict[str, Any], dict[str, str]]] = [(packaged(code={function: "v2"}), {}) for function in FUNCTIONS]
    deployments += [(packaged(layer="v2"), {}), (packaged(template=edited), {})]
    *new_code, new_layer, new_timeout = translate(*deployments)
    ids = {function: version_of(baseline(), function)[0] for function in FUNCTIONS}
    for changed, template in zip(FUNCTIONS, new_code, strict=True):
        for function in FUNCTIONS:
            assert (version_of(template, function)[0] != ids[function]) == (function == changed), (changed, function)
    # Every function takes the layer from Globals.
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "CommonLayer"}]
    assert not any("Layers" in TEMPLATE["Resources"][function]["Properties"] for function in FUNCTIONS)
    for function in FUNCTIONS:
        assert version_of(new_layer, function)[0] != ids[function], function
        assert version_of(new_timeout, function)[0] != ids[function], function


# --- SnapStart and the length of the settings --------------------------------------------------


def test_snapstart_is_a_parameter_off_by_default_on_every_function() -> None:
    parameter = PARAMETERS["SnapStart"]
    assert parameter["Default"] == "None"
    assert parameter["AllowedValues"] == ["None", "PublishedVersions"]
    for value, template in (("None", baseline()), ("PublishedVersions", parameter_changes()["SnapStart"])):
        for function in FUNCTIONS:
            snapstart = template["Resources"][function]["Properties"]["SnapStart"]
            assert deployed(snapstart["ApplyOn"], parameter_values({"SnapStart": value})) == value, function


def longest_value(parameter: str) -> str:
    """The longest value the parameter allows (its characters do not matter, only how many)."""
    spec = PARAMETERS[parameter]
    assert spec["Type"] == "String", f"{parameter}: a Number's spelling has no length limit; use a String with a pattern"
    if "AllowedValues" in spec:
        return max((str(value) for value in spec["AllowedValues"]), key=len)
    assert "MaxLength" in spec, f"{parameter} needs MaxLength (or AllowedValues): every function's settings hold it"
    return "x" * int(spec["MaxLength"])


def test_the_longest_settings_fit_a_version_description() -> None:
    for function in FUNCTIONS:
        longest = {parameter: longest_value(parameter) for parameter in parameters_of(function)}
        _, description, variable = settings(baseline(), function, parameter_values(longest))
        assert "${" not in description
        assert len(description) <= DESCRIPTION_LIMIT, (function, len(description))
        assert description == variable


@pytest.mark.parametrize("parameter", sorted(NUMBER_RANGES))
def test_each_whole_number_parameter_accepts_exactly_its_range(parameter: str) -> None:
    spec = PARAMETERS[parameter]
    low, high = NUMBER_RANGES[parameter]
    pattern = re.compile(spec["AllowedPattern"])
    # Every number of as many digits as MaxLength allows: exactly the range.
    accepted = [number for number in range(10 ** len(str(high))) if pattern.fullmatch(str(number))]
    assert accepted == list(range(low, high + 1))
    assert int(spec["MaxLength"]) == len(str(high))
    assert str(high) in spec["ConstraintDescription"]
    assert pattern.fullmatch(str(spec["Default"]))
    for spelling in ("", "00", f"0{high}", f"{low}.0", f"+{high}", f" {high}", "1e3", "-1", str(10 * high)):
        assert not pattern.fullmatch(spelling), spelling


# --- the local server --------------------------------------------------------------------------


def test_the_local_server_gives_each_function_the_settings_a_deploy_would() -> None:
    """`make run` resolves the variable from the template's parameters, as CloudFormation does."""
    overrides = {"LogLevel": "DEBUG", "AuthReservedConcurrency": "7"}
    refs = {
        **parameter_values(overrides),
        **{
            "ShopTable": "table",
            "JwtSigningSecret": "secret",
            "ImagesBucket": "bucket",
            "EventBus": "bus",
            "WebhookQueue": "queue",
        },
    }
    (template,) = translate((packaged(), overrides))
    for name, spec in functions().items():
        _, description, _ = settings(template, name, parameter_values(overrides))
        assert resolved_environment(spec, refs)["STACK_SETTINGS"] == description


# --- gradual deployments: the alias moves through CodeDeploy, and back on the function's alarm --


def test_each_alias_moves_through_codedeploy_and_rolls_back_on_its_functions_errors_alarm() -> None:
    template = baseline()
    for function in FUNCTIONS:
        alias = template["Resources"][f"{function}Alias{ALIAS}"]
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        group = template["Resources"][update["DeploymentGroupName"]["Ref"]]["Properties"]
        assert group["AlarmConfiguration"] == {
            "Enabled": True,
            "Alarms": [{"Name": {"Ref": f"{function.removesuffix('Function')}ErrorsAlarm"}}],
        }
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        assert group["ServiceRoleArn"] == {"Fn::GetAtt": ["DeploymentRole", "Arn"]}
    # SAM makes no CodeDeploy role of its own (it would carry a managed policy on every function).
    assert "CodeDeployServiceRole" not in template["Resources"]


def test_the_deployment_type_is_a_parameter_canary_by_default() -> None:
    assert TEMPLATE["Globals"]["Function"]["DeploymentPreference"]["Type"] == {"Ref": "DeploymentType"}
    assert PARAMETERS["DeploymentType"]["Default"] == "Canary10Percent5Minutes"
    (all_at_once,) = translate((packaged(), {"DeploymentType": "AllAtOnce"}))
    for template, expected in ((baseline(), "Canary10Percent5Minutes"), (all_at_once, "AllAtOnce")):
        groups = resources_of(template, "AWS::CodeDeploy::DeploymentGroup").values()
        assert len(groups) == len(FUNCTIONS)
        for group in groups:
            assert group["Properties"]["DeploymentConfigName"] == {
                "Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": expected}]
            }
