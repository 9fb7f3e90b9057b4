"""Template values the local server resolves itself: `Ref`s and `Fn::Sub` strings of parameters
and resources; what only a deployed stack knows stays unresolved (and its variable unset)."""

from pathlib import Path

import pytest

from shoplocal.template import FunctionSpec, resolve, resolved_environment

REFS = {"LogLevel": "DEBUG", "SnapStart": "None", "ShopTable": "shop-local"}


def test_a_sub_of_parameters_and_resources_is_its_text() -> None:
    value = {"Fn::Sub": "settings: SnapStart=${SnapStart} LogLevel=${LogLevel} table=${ShopTable}"}
    assert resolve(value, REFS) == "settings: SnapStart=None LogLevel=DEBUG table=shop-local"


def test_a_literal_dollar_brace_stays_literal() -> None:
    assert resolve({"Fn::Sub": "${!LogLevel} is ${LogLevel}"}, REFS) == "${LogLevel} is DEBUG"


@pytest.mark.parametrize("text", ["https://${Images.DomainName}", "${AWS::Region}-${LogLevel}"])
def test_attributes_and_pseudo_parameters_are_known_only_once_deployed(text: str) -> None:
    assert resolve({"Fn::Sub": text}, REFS) == {"Fn::Sub": text}


def test_a_name_without_a_local_value_is_an_error_as_for_a_ref() -> None:
    with pytest.raises(KeyError, match="Currency"):
        resolve({"Fn::Sub": "Currency=${Currency}"}, REFS)
    with pytest.raises(KeyError, match="Currency"):
        resolve({"Ref": "Currency"}, REFS)


def test_a_variable_left_unresolved_is_left_out_of_the_environment() -> None:
    spec = FunctionSpec(
        logical_id="F",
        code_dir=Path("functions/app"),
        handler="app.handler",
        environment={
            "SETTINGS": {"Fn::Sub": "LogLevel=${LogLevel}"},
            "URL": {"Fn::Sub": "https://${Images.DomainName}"},
            "TABLE": {"Ref": "ShopTable"},
        },
        routes=[],
    )
    assert resolved_environment(spec, REFS) == {"SETTINGS": "LogLevel=DEBUG", "TABLE": "shop-local"}
