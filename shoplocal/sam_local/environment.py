"""The functions' environment under `sam local`, written as an env-vars file (`--env-vars`).

SAM resolves a variable's `!Ref` to a parameter, but not `Fn::If` (it passes an empty string, so
`AWS_ENDPOINT_URL` would be blank and the functions would call AWS itself) nor `Fn::GetAtt`
(`IMAGES_BASE_URL`), and it gives resources their logical ids (`TABLE_NAME=ShopTable`). The file
gives every variable each function declares the value `make run` gives it, from the real ports:
the store's endpoint as the containers reach it, the local table, secret and bucket, and photo
URLs a browser on this machine can load. SAM applies only variables the template declares, so
the file names each function's own.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shoplocal.samconfig import deploy_parameter_overrides
from shoplocal.store import local_store
from shoplocal.template import functions, load_template, parameter_defaults, resolved_environment

# The resources the functions name, as the embedded store calls them (`make run` creates the bus
# and the queues in the store as `<prefix>-<logical id>`).
LOCAL_RESOURCES = {
    "ShopTable": local_store.TABLE_NAME,
    "JwtSigningSecret": local_store.SECRET_NAME,
    "ImagesBucket": local_store.IMAGES_BUCKET,
    "EventBus": local_store.EVENT_BUS,
}
# The store's account: a queue's URL (its `Ref`) is <endpoint>/<account>/<name>.
LOCAL_ACCOUNT = "123456789012"


def local_queue_urls(template: Mapping[str, Any], endpoint_url: str) -> dict[str, str]:
    """Each queue of the template by logical id: its URL in the store, as the containers reach it."""
    return {
        name: f"{endpoint_url.rstrip('/')}/{LOCAL_ACCOUNT}/{local_store.RESOURCE_PREFIX}-{name}"
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::SQS::Queue"
    }


class NoLocalValue(Exception):
    """A variable the template declares has no local value."""


def local_parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """The template's parameters as `make run` takes them: defaults, the development stack's
    values from samconfig.toml, then `overrides`."""
    declared = set(template.get("Parameters", {}))
    values = {**parameter_defaults(dict(template)), **deploy_parameter_overrides("default"), **overrides}
    return {name: value for name, value in values.items() if name in declared}


def function_variables(
    endpoint_url: str, images_base_url: str, log_level: str, parameters: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """For each function, every variable it declares (its own and Globals') with its local value."""
    template = load_template()
    refs = {**local_parameters(template, parameters or {}), **LOCAL_RESOURCES, **local_queue_urls(template, endpoint_url)}
    chosen = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "IMAGES_BASE_URL": images_base_url,
        "POWERTOOLS_LOG_LEVEL": log_level.upper(),
    }
    variables: dict[str, dict[str, str]] = {}
    for name, spec in functions(template).items():
        resolved = resolved_environment(spec, refs)
        values = {}
        for variable in spec.environment:
            value = chosen.get(variable, resolved.get(variable))
            if value is None:
                raise NoLocalValue(f"{name}'s variable {variable} has no local value: give it one in {__name__}")
            values[variable] = value
        variables[name] = values
    return variables


def write_env_vars(path: Path, variables: Mapping[str, Mapping[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(variables, indent=2, sort_keys=True) + "\n", encoding="utf-8")
