"""The docs function (DocsFunction): the API's documentation page and document, and the HTTP API's
`$default` route.

Its handler is `docs.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
