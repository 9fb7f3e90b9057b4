"""The profile item's key. The auth function reads profiles; the orders function checks, inside
each order's transaction, that the customer's profile exists and is active."""


def profile_key(user_id: int) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}
