"""The staff catalogue function (CatalogAdminFunction): products, their stock and their photos.

Its handler is `catalog_admin.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
