"""The auth function (AuthFunction): sign-in, refresh, sign-up, logout and the signed-in user's own
account (/api/me).

Its handler is `auth.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
