"""The image check function (ImageCheckFunction): each photo uploaded to the images bucket is checked
before it is shown.

Its handler is `image_check.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
