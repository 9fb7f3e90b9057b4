"""Reading `template.yaml`, the single source of the table, the functions, routes and environment.

Tests create their table from the same definition that deploys, so the two cannot drift.
"""

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
TABLE_RESOURCE = "ShopTable"


class _CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation's short tags (!Ref, !GetAtt, !Sub ...) as the
    long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...)."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


@dataclass(frozen=True)
class Route:
    method: str
    path: str


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path  # CodeUri: the folder that holds the function's package
    handler: str  # "package.module.function"
    environment: dict[str, Any]  # raw template values; see resolve()
    routes: list[Route]
    policy_statements: list[dict[str, Any]] = field(default_factory=list)

    @property
    def module(self) -> str:
        """The handler's module ("auth.handler" of "auth.handler.lambda_handler")."""
        return self.handler.rpartition(".")[0]

    @property
    def function_name(self) -> str:
        return self.handler.rpartition(".")[2]

    @property
    def package(self) -> str:
        """The function's package ("auth" of "auth.handler.lambda_handler"): the folder under
        `code_dir` that is the function's code."""
        return self.handler.partition(".")[0]

    @property
    def module_file(self) -> Path:
        """The handler module's source file."""
        return self.code_dir.joinpath(*self.module.split(".")).with_suffix(".py")


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    return template


def table_definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """`CreateTable` arguments (without TableName) for the table the template declares."""
    properties = (template or load_template())["Resources"][TABLE_RESOURCE]["Properties"]
    definition = {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        if key in properties
    }
    return definition


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    parameters = (template or load_template()).get("Parameters", {})
    return {name: str(spec["Default"]) for name, spec in parameters.items() if "Default" in spec}


# ${Name}, ${Resource.Attribute}, ${AWS::Region}, or the literal ${!Text}.
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Replace `Ref`s with values from `refs` (resource names, parameters), and a `Fn::Sub`
    string whose variables all have one with its text; others stay as they are."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return _local_value(value["Ref"], refs)
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        variables = [name for literal, name in _SUB_VARIABLE.findall(text) if not literal]
        # An attribute or a pseudo parameter is only known once deployed: such a string stays.
        if any("." in name or name.startswith("AWS::") for name in variables):
            return value
        return _SUB_VARIABLE.sub(
            lambda match: "${" + match[2] + "}" if match[1] else _local_value(match[2], refs),
            text,
        )
    return value


def _local_value(name: str, refs: dict[str, str]) -> str:
    if name not in refs:
        raise KeyError(f"template.yaml refers to {name!r}, which has no local value")
    return refs[name]


def resolved_environment(spec: FunctionSpec, refs: Mapping[str, str]) -> dict[str, str]:
    """The function's variables with `Ref`s and `Fn::Sub`s of them replaced by local values. A
    value that is still an intrinsic function afterwards (e.g. Fn::GetAtt) has no local meaning
    and is left out."""
    environment = {}
    for name, value in spec.environment.items():
        resolved = resolve(value, dict(refs))
        if not isinstance(resolved, dict | list):
            environment[name] = str(resolved)
    return environment


def functions(template: dict[str, Any] | None = None, root: Path = PROJECT_ROOT) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function with its HttpApi routes and its merged environment.
    Code folders are relative to `root`, the template's folder."""
    template = template or load_template()
    global_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    specs = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        routes = [
            # An HttpApi event without Method/Path is API Gateway's catch-all `$default` route.
            Route(event.get("Properties", {}).get("Method", "ANY").upper(), event.get("Properties", {}).get("Path", "$default"))
            for event in properties.get("Events", {}).values()
            if event.get("Type") == "HttpApi"
        ]
        statements = [
            statement
            for policy in properties.get("Policies", [])
            if isinstance(policy, dict)
            for statement in policy.get("Statement", [])
        ]
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=root / properties["CodeUri"],
            handler=properties["Handler"],
            environment={**global_env, **properties.get("Environment", {}).get("Variables", {})},
            routes=routes,
            policy_statements=statements,
        )
    return specs


def layer_paths(template: dict[str, Any] | None = None, root: Path = PROJECT_ROOT) -> list[Path]:
    """Each layer's source folder (what `sam build` packs into the layer's python/)."""
    return [
        root / resource["Properties"]["ContentUri"]
        for resource in (template or load_template())["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    ]


def code_paths(template: dict[str, Any] | None = None, root: Path = PROJECT_ROOT) -> list[Path]:
    """The folders Lambda puts on sys.path: each layer's content and the folder holding each
    function's package (every function's is `functions/`: listed once)."""
    code_dirs = [spec.code_dir for spec in functions(template, root).values()]
    return layer_paths(template, root) + list(dict.fromkeys(code_dirs))


def put_code_on_path(folders: list[Path] | None = None) -> None:
    """Make the layers and functions (`folders`, default: this project's `code_paths()`)
    importable in this process, first on sys.path as they are on Lambda."""
    for path in reversed(code_paths() if folders is None else folders):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def put_layers_on_path() -> None:
    """Make the layers alone importable (tooling such as `shopctl`, which shares the layer's code
    with the functions but never imports a function's own)."""
    put_code_on_path(layer_paths())
