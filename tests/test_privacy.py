"""Personal data never reaches a log in clear."""

from __future__ import annotations

import logging

import pytest

from core.privacy import RedactingFilter, mask_name, mask_nik, mask_phone


def test_masks_keep_only_what_a_person_needs_to_recognise_it() -> None:
    assert mask_nik("3273014501900001") == "3273************"
    assert mask_phone("6281234567890") == "62812*****890"
    # Short numbers (an SMS from a short code or a typo) keep at most half their digits.
    assert mask_phone("81234567") == "81****67"
    assert mask_phone("0812345") == "08****5"
    assert mask_phone("628123456") == "62*****56"
    assert mask_phone("62812345678") == "628******78"
    assert mask_phone("628123456789") == "62812****789"
    assert mask_name("Siti Nurhaliza") == "S*** N********"


def test_log_filter_masks_a_nik_or_phone_that_slipped_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.privacy")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.privacy"):
        logger.info("verify %s for %s", "3273014501900001", "6281234567890")
    text = caplog.records[0].getMessage()
    assert "3273014501900001" not in text and "6281234567890" not in text
    assert text == "verify 3273************ for 6281*********"


def test_exception_text_and_tracebacks_are_masked_too(tmp_path) -> None:
    """What reaches the log file, formatted by the server's own handler set-up."""
    import io

    from core.logs import setup_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        root.handlers[0].setStream(stream)
        try:
            raise ValueError("no registrant 3273014501900001 for phone 6281234567890")
        except ValueError:
            logging.getLogger("test.privacy").exception("hop failed")
    finally:
        root.handlers[:], root.level = saved
    written = stream.getvalue()
    assert "Traceback" in written and "hop failed" in written
    assert "3273014501900001" not in written and "6281234567890" not in written
    assert "900001" not in written  # not even the NIK's last digits


async def test_json_logs_carry_the_hop_context_with_the_phone_masked(config, redis, keys) -> None:
    import io
    import json as jsonlib

    import aiohttp

    from core.logs import setup_logging
    from tests.ussd_harness import PHONE, AtPhone, load_registry, running_server

    await load_registry(redis, keys)
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", "json")
        root.handlers[0].setStream(stream)
        async with running_server(config) as base, aiohttp.ClientSession() as http:
            phone = AtPhone(http, base, PHONE, "json-logs")
            await phone.dial()
            await phone.send("1")
            await phone.send("1")
            for _ in range(3):  # three wrong answers lock the phone, which is logged
                await phone.send("000000")
    finally:
        root.handlers[:], root.level = saved
    entries = [jsonlib.loads(line) for line in stream.getvalue().splitlines()]
    [locked] = [e for e in entries if "locked" in e["message"]]
    assert locked["level"] == "INFO" and locked["channel"] == "ussd/africastalking"
    assert locked["request_id"] and locked["msisdn"].startswith("62812")
    assert PHONE not in stream.getvalue()
