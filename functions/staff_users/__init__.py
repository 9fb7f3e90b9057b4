"""The staff users function (StaffUsersFunction): staff list users and set their flags (/api/users).

Its handler is `staff_users.handler.lambda_handler` (template.yaml); nothing is imported here, so a
cold start loads only what the handler imports."""
