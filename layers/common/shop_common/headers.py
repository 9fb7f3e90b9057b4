"""Request headers by name, whatever the case of the names the event holds.

HTTP header names are case-insensitive. API Gateway's HTTP API hands functions lower-cased
names; `sam local start-api` passes them as the client wrote them (`Authorization`,
`Idempotency-Key`), and so does anything else that builds events by hand. Every read of a request
header (in the functions, the layer and the local gateway) goes through `header`, so a function
answers the same behind each of them.

Standard library only: the docs function, which imports nothing else, reads its headers here too.
"""

from collections.abc import Mapping


def header(headers: object, name: str) -> str | None:
    """The value of the request header `name` in `headers` (an event's `headers`; None or
    anything but a mapping holds no header), its name compared without case. Where one name
    appears in several spellings (only a hand-made event has that) the values are joined with
    commas, as API Gateway joins a repeated header: a bearer token then fails, never picks one.

    Bounded: one pass over the headers (API Gateway accepts at most 10 KB of them)."""
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    values = [str(value) for key, value in headers.items() if isinstance(key, str) and key.lower() == wanted]
    return ",".join(values) if values else None


def with_header(headers: object, name: str, value: str) -> dict[str, str]:
    """A copy of `headers` where `name` (in any spelling) has only `value`, under its
    lower-case name, as API Gateway spells it."""
    wanted = name.lower()
    kept = headers.items() if isinstance(headers, Mapping) else ()
    return {**{str(key): str(item) for key, item in kept if str(key).lower() != wanted}, wanted: value}
