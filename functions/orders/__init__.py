"""The orders function (OrdersFunction): quotes, orders and their cancellation, a customer's orders and
staff's view of all.

Its handler is `orders.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
