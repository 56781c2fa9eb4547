"""Personal data never reaches a log in clear."""

from __future__ import annotations

import logging

import pytest

from core.privacy import RedactingFilter, mask_name, mask_nik, mask_phone


def test_masks_keep_only_what_a_person_needs_to_recognise_it() -> None:
    assert mask_nik("3273014501900001") == "3273************"
    assert mask_phone("6281234567890") == "62812*****890"
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
