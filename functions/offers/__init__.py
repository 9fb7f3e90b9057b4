"""The offers function (OffersFunction): the current special offers for anyone, their management for
staff.

Its handler is `offers.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
