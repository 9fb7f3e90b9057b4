"""The template parameters a deployed stack gets from `samconfig.toml`, so the local server runs
with the development stack's values (its CORS origins, for one) rather than only the template's
defaults.

`sam deploy` reads `[<env>.deploy.parameters] parameter_overrides`, a string of `Name=value`
pairs separated by spaces, values optionally quoted; this reads the same string the same way.
"""

import shlex
import tomllib
from pathlib import Path
from typing import Any

from shoplocal.template import PROJECT_ROOT

SAMCONFIG_PATH = PROJECT_ROOT / "samconfig.toml"


class SamConfigError(Exception):
    """samconfig.toml or a `Name=value` list cannot be read."""


def parse_overrides(text: str) -> dict[str, str]:
    """`"A=1 B='x y' C=a,b"` -> {"A": "1", "B": "x y", "C": "a,b"}."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise SamConfigError(f"cannot read the parameter overrides {text!r}: {error}") from error
    overrides = {}
    for word in words:
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise SamConfigError(f"{word!r} is not Name=value")
        overrides[name] = value
    return overrides


def deploy_parameter_overrides(config_env: str = "default", path: Path = SAMCONFIG_PATH) -> dict[str, str]:
    """The parameter overrides `sam deploy --config-env <config_env>` uses ({} without a file)."""
    if not path.exists():
        return {}
    try:
        config: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SamConfigError(f"cannot read {path.name}: {error}") from error
    overrides = config.get(config_env, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    if isinstance(overrides, list):  # samconfig also allows a list of "Name=value" strings
        overrides = " ".join(shlex.quote(str(item)) for item in overrides)
    return parse_overrides(str(overrides))
