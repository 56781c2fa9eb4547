"""Form bodies (Africa's Talking): every value decoded exactly as the URL standard says."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest

from gateways.dialects import africastalking
from gateways.parsing import BadRequest, unquote_form

CASES = [
    "%2B6281100000001",  # the phone's "+"
    "1%2A2%2A123456",  # cumulative input
    "a+b%20c",
    "%E2%82%AC and %e2%82%ac",  # either case
    "%C3%A9t%C3%A9",
    "100%",  # malformed escapes stay as written
    "%zz%2",
    "%%41",
    "é%20x",  # already non-ASCII
    "",
]


@pytest.mark.parametrize("value", CASES)
def test_a_form_value_reads_as_the_standard_decoder_reads_it(value: str) -> None:
    assert unquote_form(value) == unquote_plus(value, errors="strict")


def test_escapes_that_are_not_utf8_are_a_bad_request_naming_the_field() -> None:
    body = b"sessionId=s1&serviceCode=%2A119%23&phoneNumber=%2B6281100000001&text=%FF"
    with pytest.raises(BadRequest, match="UTF-8"):
        africastalking.parse(body)


def test_a_hop_reads_its_fields_through_the_escapes() -> None:
    body = b"sessionId=s+1&serviceCode=%2A119%23&phoneNumber=%2B6281100000001&text=1%2A2"
    inbound = africastalking.parse(body)
    assert (inbound.session_id, inbound.service_code, inbound.msisdn) == (
        "s 1",
        "*119#",
        "6281100000001",
    )
    assert inbound.text == "2"
