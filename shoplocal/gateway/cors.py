"""The CORS handling API Gateway does for an HTTP API with a `CorsConfiguration`: it answers
preflight requests itself and adds the CORS headers to the functions' responses."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shop_common.headers import header
from shoplocal.template import resolve


@dataclass(frozen=True)
class CorsRules:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_template(cls, template: Mapping[str, Any], refs: Mapping[str, str]) -> "CorsRules":
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") == "AWS::Serverless::HttpApi":
                configuration = resource.get("Properties", {}).get("CorsConfiguration")
                if isinstance(configuration, dict):
                    return cls._from_configuration(configuration, refs)
        return cls()

    @classmethod
    def _from_configuration(cls, configuration: Mapping[str, Any], refs: Mapping[str, str]) -> "CorsRules":
        def values(name: str) -> tuple[str, ...]:
            value = resolve(configuration.get(name, []), dict(refs))
            items = value.split(",") if isinstance(value, str) else value  # a CommaDelimitedList parameter
            return tuple(str(item).strip() for item in items)

        max_age = configuration.get("MaxAge")
        return cls(
            allow_origins=values("AllowOrigins"),
            allow_methods=tuple(method.upper() for method in values("AllowMethods")),
            allow_headers=tuple(header.lower() for header in values("AllowHeaders")),
            expose_headers=values("ExposeHeaders"),
            max_age=int(max_age) if max_age is not None else None,
            allow_credentials=bool(configuration.get("AllowCredentials", False)),
        )

    def _allows(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins

    def is_preflight(self, method: str, headers: Mapping[str, str]) -> bool:
        return (
            bool(self.allow_origins)
            and method == "OPTIONS"
            and header(headers, "Origin") is not None
            and header(headers, "Access-Control-Request-Method") is not None
        )

    def preflight_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The headers of API Gateway's 204 answer to a preflight request (none for a foreign origin)."""
        origin = header(headers, "Origin")
        if origin is None or not self._allows(origin):
            return {}
        answer = {
            "access-control-allow-origin": "*" if "*" in self.allow_origins and not self.allow_credentials else origin,
            "access-control-allow-methods": ",".join(self.allow_methods or ("*",)),
        }
        if self.allow_headers:
            answer["access-control-allow-headers"] = ",".join(self.allow_headers)
        if self.max_age is not None:
            answer["access-control-max-age"] = str(self.max_age)
        if self.allow_credentials:
            answer["access-control-allow-credentials"] = "true"
        return answer

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The CORS headers API Gateway adds to a function's response for this request."""
        origin = header(headers, "Origin")
        if not origin or not self._allows(origin):
            return {}
        answer = {"access-control-allow-origin": "*" if "*" in self.allow_origins and not self.allow_credentials else origin}
        if self.expose_headers:
            answer["access-control-expose-headers"] = ",".join(self.expose_headers)
        if self.allow_credentials:
            answer["access-control-allow-credentials"] = "true"
        return answer
