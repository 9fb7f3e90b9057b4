"""The env-vars file `make sam-local` hands SAM: every variable each function declares, with the
value `make run` gives it, and the store's endpoint as the containers reach it."""

import json
from pathlib import Path

import pytest

from shoplocal.sam_local import environment
from shoplocal.sam_local.environment import NoLocalValue, function_variables, write_env_vars
from shoplocal.store import local_store
from shoplocal.template import functions, load_template

ENDPOINT = "http://172.17.0.1:8600"
IMAGES = "http://127.0.0.1:8600/shop-local-images"


def test_each_function_gets_exactly_the_variables_it_declares() -> None:
    variables = function_variables(ENDPOINT, IMAGES, "WARNING")
    specs = functions()
    assert set(variables) == set(specs)
    for name, spec in specs.items():
        assert set(variables[name]) == set(spec.environment), name


def test_the_values_sam_cannot_resolve_are_the_local_ones() -> None:
    """SAM blanks `Fn::If` (the endpoint), cannot resolve `Fn::GetAtt` (the photos' base URL)
    and names resources by logical id: each is given its local value."""
    variables = function_variables(ENDPOINT, IMAGES, "warning")
    for name, values in variables.items():
        assert values["AWS_ENDPOINT_URL"] == ENDPOINT, name
        assert values["TABLE_NAME"] == local_store.TABLE_NAME, name
        assert values["POWERTOOLS_LOG_LEVEL"] == "WARNING", name
        assert all(isinstance(value, str) and "${" not in value for value in values.values()), name
        if "JWT_SECRET_ID" in values:
            assert values["JWT_SECRET_ID"] == local_store.SECRET_NAME
        if "IMAGES_BUCKET" in values:
            assert values["IMAGES_BUCKET"] == local_store.IMAGES_BUCKET
        if "IMAGES_BASE_URL" in values:
            assert values["IMAGES_BASE_URL"] == IMAGES
    assert "IMAGES_BASE_URL" in variables["CatalogAdminFunction"]


def test_parameters_come_from_the_development_stack_as_make_run_takes_them() -> None:
    settings = function_variables(ENDPOINT, IMAGES, "WARNING")["AuthFunction"]["STACK_SETTINGS"]
    assert "Arch=arm64" in settings
    overridden = function_variables(ENDPOINT, IMAGES, "WARNING", {"Architecture": "x86_64"})
    assert "Arch=x86_64" in overridden["AuthFunction"]["STACK_SETTINGS"]


def test_a_declared_variable_without_a_local_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new variable whose value SAM cannot resolve must not reach the functions blank."""
    template = load_template()
    edited = {**template, "Globals": {"Function": {**template["Globals"]["Function"]}}}
    variables = dict(edited["Globals"]["Function"]["Environment"]["Variables"])
    variables["QUEUE_URL"] = {"Fn::GetAtt": ["SomeQueue", "QueueUrl"]}
    edited["Globals"]["Function"]["Environment"] = {"Variables": variables}
    monkeypatch.setattr(environment, "load_template", lambda: edited)
    with pytest.raises(NoLocalValue, match="QUEUE_URL"):
        function_variables(ENDPOINT, IMAGES, "WARNING")


def test_the_file_is_sams_env_vars_format(tmp_path: Path) -> None:
    path = tmp_path / "sam" / "env-vars.json"
    write_env_vars(path, {"AuthFunction": {"TABLE_NAME": "shop-local"}})
    assert json.loads(path.read_text()) == {"AuthFunction": {"TABLE_NAME": "shop-local"}}
