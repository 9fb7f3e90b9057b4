"""The products function (ProductsFunction): the public catalogue, GET /api/products[/{product_id}].

Its handler is `products.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
