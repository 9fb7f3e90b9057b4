"""The parameter overrides `sam deploy` gets in CI: samconfig.toml's for the environment, plus the
values only the pipeline knows (the stage's permissions boundary, the alarm address).

`sam deploy --parameter-overrides` replaces samconfig.toml's overrides rather than adding to
them, so the workflow passes this module's output, which keeps them:

    python -m pipeline.overrides --config-env prod PermissionsBoundary=arn:... AlarmEmail=ops@example.com

A value given here replaces samconfig.toml's for the same parameter; an empty one is left out (an
unset repository variable leaves the template's default). SAM reads `Name=value` pairs separated
by spaces, so no value may hold a space or a quote.
"""

import argparse
import re
import sys

from shoplocal.samconfig import SamConfigError, deploy_parameter_overrides, parse_overrides

_PLAIN = re.compile(r"[^\s'\"]*")


def combined(config_env: str, extra: list[str]) -> str:
    values = deploy_parameter_overrides(config_env)
    if not values:
        raise SamConfigError(f"samconfig.toml has no parameter overrides for [{config_env}]")
    values |= {name: value for name, value in parse_overrides(" ".join(extra)).items() if value}
    for name, value in values.items():
        if not _PLAIN.fullmatch(value):
            raise SamConfigError(f"{name}'s value {value!r} holds a space or a quote")
    return " ".join(f"{name}={value}" for name, value in values.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.overrides", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-env", required=True, help="samconfig.toml's environment (default, prod)")
    parser.add_argument("values", nargs="*", metavar="Name=value", help="values to add or replace (empty ones are left out)")
    args = parser.parse_args(argv)
    try:
        print(combined(args.config_env, args.values))
    except SamConfigError as error:
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
