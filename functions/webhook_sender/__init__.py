"""The webhook sender function (WebhookSenderFunction): delivers the bus's events to the registered
endpoints.

Its handler is `webhook_sender.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
