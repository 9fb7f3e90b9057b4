"""Matching a request to a route of the template, with API Gateway HTTP API's rules:
`GET /items/{id}` binds a path segment, `/files/{path+}` the rest of the path, `ANY` any
method, `$default` whatever nothing else matches; the most specific route wins.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shoplocal.template import FunctionSpec, Route

_PARAMETER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class RouteMatch:
    spec: FunctionSpec
    route_key: str
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    spec: FunctionSpec
    pattern: re.Pattern[str] | None  # None: the $default route
    names: tuple[str, ...]
    specificity: tuple[int, int, int, int]  # lower sorts first

    @property
    def route_key(self) -> str:
        return "$default" if self.pattern is None else f"{self.route.method} {self.route.path}"


def _compile(route: Route, spec: FunctionSpec) -> _CompiledRoute:
    if route.path == "$default":
        return _CompiledRoute(route, spec, None, (), (1, 0, 0, 0))
    names: list[str] = []
    regex = ""
    greedy = 0
    for segment in route.path.strip("/").split("/"):
        match = _PARAMETER.fullmatch(segment)
        if match is None:
            regex += "/" + re.escape(segment)
        elif match.group(1).endswith("+"):
            names.append(match.group(1)[:-1])
            regex += "/(.+)"
            greedy += 1
        else:
            names.append(match.group(1))
            regex += "/([^/]+)"
    specificity = (0, greedy, len(names), int(route.method == "ANY"))
    return _CompiledRoute(route, spec, re.compile(regex or "/"), tuple(names), specificity)


class RouteTable:
    def __init__(self, specs: Iterable[FunctionSpec]) -> None:
        compiled = [_compile(route, spec) for spec in specs for route in spec.routes]
        self._routes = sorted(compiled, key=lambda route: route.specificity)

    def match(self, method: str, path: str) -> RouteMatch | None:
        for route in self._routes:
            if route.route.method not in ("ANY", method.upper()) and route.pattern is not None:
                continue
            if route.pattern is None:
                return RouteMatch(route.spec, route.route_key, {})
            found = route.pattern.fullmatch(path)
            if found:
                return RouteMatch(route.spec, route.route_key, dict(zip(route.names, found.groups(), strict=True)))
        return None

    def __len__(self) -> int:
        return len(self._routes)
