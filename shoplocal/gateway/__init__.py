"""A local stand-in for API Gateway's HTTP API: routes and functions read from `template.yaml`,
payload-format-2.0 events, handler "containers", CORS, and the HTTP server in front."""
