"""A local stand-in for API Gateway's HTTP API: routes and functions read from `template.yaml`,
payload-format-2.0 events, handler "containers", CORS, and the HTTP server in front."""

from shoplocal.template import put_code_on_path

# The gateway reads request headers with the layer's accessor (shop_common.headers), as the
# functions do: the layer is importable in this process from here on.
put_code_on_path()
