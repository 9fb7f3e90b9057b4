"""`shopctl`, the shop's admin command: accounts, catalogue loads, demo data, backups, on the
local store or on a deployed table."""
