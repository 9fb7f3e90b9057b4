"""Reading the deployed stacks' template parameters from samconfig.toml, as `sam deploy` does."""

from pathlib import Path

import pytest

from shoplocal.samconfig import SamConfigError, deploy_parameter_overrides, parse_overrides


def test_overrides_are_name_value_pairs_with_optional_quotes() -> None:
    assert parse_overrides("A=1 B='x y' C=a,b D=") == {"A": "1", "B": "x y", "C": "a,b", "D": ""}


@pytest.mark.parametrize("text", ["A", "=1", "A='unterminated"])
def test_malformed_overrides_are_refused(text: str) -> None:
    with pytest.raises(SamConfigError):
        parse_overrides(text)


def test_each_environment_has_its_own_overrides(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text(
        'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = "AllowedOrigins=http://a,http://b"\n'
        '[prod.deploy.parameters]\nparameter_overrides = ["AllowedOrigins=https://shop.example", "LogLevel=INFO"]\n'
    )
    assert deploy_parameter_overrides("default", config) == {"AllowedOrigins": "http://a,http://b"}
    assert deploy_parameter_overrides("prod", config) == {"AllowedOrigins": "https://shop.example", "LogLevel": "INFO"}
    assert deploy_parameter_overrides("staging", config) == {}
    assert deploy_parameter_overrides("default", tmp_path / "missing.toml") == {}


def test_the_projects_development_stack_allows_a_vite_front_end() -> None:
    assert "http://localhost:5173" in deploy_parameter_overrides("default")["AllowedOrigins"].split(",")


def test_an_unreadable_samconfig_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "samconfig.toml"
    config.write_text("[default\n")
    with pytest.raises(SamConfigError, match=r"cannot read samconfig\.toml"):
        deploy_parameter_overrides("default", config)
