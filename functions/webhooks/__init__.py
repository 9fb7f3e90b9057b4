"""The staff webhooks function (WebhooksFunction): endpoints, their secrets and their deliveries.

Its handler is `webhooks.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
