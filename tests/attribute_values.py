"""Hypothesis strategies for DynamoDB attribute values as they travel in JSON (numbers as
strings, binary values as base64 text), for the tests that hold a parser or a conversion to
botocore's and boto3's."""

import base64
from typing import Any

from hypothesis import strategies as st

text = st.text(max_size=8)
number = st.one_of(st.integers(-(10**20), 10**20).map(str), st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str))
blob = st.binary(max_size=8).map(lambda raw: base64.b64encode(raw).decode())
scalar_value: st.SearchStrategy[dict[str, Any]] = st.one_of(
    text.map(lambda s: {"S": s}),
    number.map(lambda n: {"N": n}),
    blob.map(lambda b: {"B": b}),
    st.lists(text, max_size=3).map(lambda v: {"SS": v}),
    st.lists(number, max_size=3).map(lambda v: {"NS": v}),
    st.lists(blob, max_size=3).map(lambda v: {"BS": v}),
    st.just({"NULL": True}),
    st.booleans().map(lambda v: {"BOOL": v}),
)
