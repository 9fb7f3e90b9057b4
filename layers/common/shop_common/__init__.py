"""Code shared by the shop's Lambda functions, shipped as the `common` layer."""
