"""The events function (EventsFunction): the table's stream becomes domain events on the stack's
EventBridge bus.

Its handler is `events.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
