"""SigV4 signatures are botocore's, whatever the endpoint, headers, body, day and credentials,
with one signer whose cached day key must follow the day and the secret."""

import datetime

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop_common.aws.credentials import Credentials
from shop_common.aws.sigv4 import SigV4Signer

HYPOTHESIS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
header_value = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12)
header_value_with_spaces = st.builds(lambda a, b: f" {a}  {b} ", header_value, header_value)


@HYPOTHESIS
@given(
    url=st.sampled_from(
        [
            "https://dynamodb.eu-west-1.amazonaws.com/",
            "https://dynamodb.eu-west-1.amazonaws.com:443",
            "http://127.0.0.1:8000/",
            "http://LOCALHOST:80/",
            "http://[::1]:8000/",
        ]
    ),
    region=st.sampled_from(["eu-west-1", "us-east-1"]),
    service=st.sampled_from(["dynamodb", "secretsmanager"]),
    requests=st.lists(
        st.tuples(
            st.datetimes(datetime.datetime(2020, 1, 1), datetime.datetime(2040, 1, 1)),  # days change between requests
            st.dictionaries(
                st.sampled_from(["X-Amz-Target", "Content-Type", "X-Extra", "amz-sdk-request"]),
                st.one_of(header_value, header_value_with_spaces),
            ),
            st.binary(max_size=64),
            st.sampled_from(["secret", "other secret"]),
            st.one_of(st.none(), header_value),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_signatures_are_botocores_whatever_the_day_key_and_headers(
    url: str, region: str, service: str, requests: list[tuple[datetime.datetime, dict[str, str], bytes, str, str | None]]
) -> None:
    signer = SigV4Signer(url, region, service)  # one signer: its day key must follow
    for moment, headers, body, secret, token in requests:
        amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
        signed = {**headers, "X-Amz-Date": amz_date} | ({"X-Amz-Security-Token": token} if token else {})
        theirs = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
        auth = SigV4Auth(BotocoreCredentials("AKIDEXAMPLE", secret, token), service, region)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(botocore.auth, "get_current_datetime", lambda *_, at=moment, **__: at)
            auth.add_auth(theirs)
        ours = signer.authorization(signed, body, Credentials("AKIDEXAMPLE", secret, token), amz_date)
        assert ours == theirs.headers["Authorization"]
