"""Text on the wire, PDUs, multipart and receipts: pure functions, no network."""

from __future__ import annotations

import pytest

from smpp import codec, concat, encoding, receipts, templates
from smpp.mt import MtBuilder, Source
from smpp.settings import smpp_settings
from tests.conftest import make_test_config


def test_gsm_table_has_section_sign_and_form_feed_in_extension() -> None:
    assert encoding.encode_gsm7("§") == b"\x5f"
    assert encoding.encode_gsm7("\f") == b"\x1b\x0a"
    assert encoding.decode_gsm7(b"\x1b\x0a\x5f\x1b\x65") == "\f§€"
    assert encoding.choose_encoding("Halo [Budi] {x} € ~") == encoding.GSM7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("gsm7", 1)),
        ("a" * 161, ("gsm7", 2)),
        ("a" * 153 * 2, ("gsm7", 2)),
        ("a" * (153 * 2 + 1), ("gsm7", 3)),
        ("€" * 80, ("gsm7", 1)),  # 160 septets
        ("€" * 81, ("gsm7", 2)),
        ("ш" * 70, ("ucs2", 1)),
        ("ш" * 71, ("ucs2", 2)),
    ],
)
def test_part_counts_at_the_limits(text: str, expected: tuple[str, int]) -> None:
    assert encoding.count_parts(text) == expected


def test_escape_pair_never_straddles_a_part_boundary() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the escape would be septet 153, its code 154
    enc = encoding.encode_message(text)
    assert len(enc.parts) == 2
    assert not enc.parts[0].endswith(b"\x1b")
    assert all(len(p) <= 153 for p in enc.parts)
    assert "".join(encoding.decode_gsm7(p) for p in enc.parts) == text


def test_emoji_surrogate_pair_stays_in_one_part() -> None:
    text = "x" * 66 + "😀" + "y" * 10  # the pair would be units 67 and 68
    enc = encoding.encode_message(text)
    assert enc.encoding == encoding.UCS2
    assert all(len(p) <= 134 for p in enc.parts)
    assert [p.decode("utf-16-be") for p in enc.parts] == ["x" * 66, "😀" + "y" * 10]


def test_latin1_when_the_smsc_reads_data_coding_0_that_way() -> None:
    enc = encoding.encode_message("Halo é", gsm_dc0=False)
    assert enc.data_coding == encoding.DC_LATIN1 and enc.parts == [b"Halo \xe9"]


@pytest.mark.parametrize(
    ("data", "dc", "text"),
    [
        (b"VAKSIN", 0, "VAKSIN"),
        ("Halo 😀".encode("utf-16-be"), 8, "Halo 😀"),
        (b"caf\xe9", 3, "café"),
        (b"\x00\x5f", 0xF0, "@§"),
        (b"od\xff", 0x08, "潤"),  # an odd byte count never raises
    ],
)
def test_decode_by_data_coding(data: bytes, dc: int, text: str) -> None:
    assert encoding.decode(data, dc) == text


def test_submit_sm_fast_path_matches_smpplib() -> None:
    raw = codec.build_submit_sm(
        42,
        source="PEDULICOVID",
        source_ton=5,
        source_npi=0,
        destination="6281234567890",
        esm_class=0x40,
        data_coding=8,
        short_message=concat.udh_8bit(7, 2, 1) + b"\x00a",
        tlvs=codec.tlv(codec.TLV_SAR_MSG_REF_NUM, 7, 2),
    )
    fields = codec.parse_with_smpplib(raw)
    assert fields["command"] == "submit_sm" and fields["sequence"] == 42
    assert fields["source_addr"] == b"PEDULICOVID" and fields["source_addr_ton"] == 5
    assert fields["destination_addr"] == b"6281234567890"
    assert fields["esm_class"] == 0x40 and fields["data_coding"] == 8
    assert fields["short_message"] == b"\x05\x00\x03\x07\x02\x01\x00a"
    assert fields["sar_msg_ref_num"] == 7
    ours = codec.parse_short_message(raw[16:])
    assert ours.destination == "6281234567890" and ours.tlv_int(codec.TLV_SAR_MSG_REF_NUM) == 7
    assert codec.peek_destination(raw[16:]) == "6281234567890"


def test_bind_built_by_smpplib_parses_back() -> None:
    raw = codec.build_bind(codec.BIND_TRANSCEIVER, 3, "vaksin", "secret", "VMA")
    frames = codec.split_frames(bytearray(raw))
    req = codec.parse_bind(frames[0].command_id, 0, 3, frames[0].body)
    assert (req.system_id, req.password, req.system_type) == ("vaksin", "secret", "VMA")


def test_deliver_sm_with_unknown_tlvs_parses_where_smpplib_fails() -> None:
    raw = codec.build_submit_sm(
        1,
        source="62812",
        source_ton=1,
        source_npi=1,
        destination="1199",
        short_message=b"VAKSIN",
        command_id=codec.DELIVER_SM,
        tlvs=codec.tlv(0x0501, 1, 1) + codec.tlv(0x1403, b"vendor"),  # ussd_service_op, vendor
    )
    sm = codec.parse_short_message(raw[16:])
    assert sm.short_message == b"VAKSIN" and sm.tlvs[0x1403] == b"vendor"
    with pytest.raises(codec.PduError):
        codec.parse_short_message(raw[16:40])


def test_framing_keeps_partial_pdus_and_rejects_impossible_lengths() -> None:
    pdu = codec.header_only(codec.ENQUIRE_LINK, 9)
    buffer = bytearray(pdu + pdu[:7])
    frames = codec.split_frames(buffer)
    assert [f.sequence for f in frames] == [9] and bytes(buffer) == pdu[:7]
    with pytest.raises(codec.FramingError):
        codec.split_frames(bytearray(b"\xff\xff\xff\xff" + b"\x00" * 12))


def _sm(payload: bytes, esm: int = 0, tlvs: dict[int, bytes] | None = None) -> codec.ShortMessage:
    return codec.ShortMessage("62812", 1, 1, "1199", 0, 0, esm, 0, 0, payload, tlvs or {})


def add(r: concat.Reassembler, *part: object, now: float) -> tuple[bytes, int] | None:
    """One part into ``r``: (whole payload, data_coding) once the set is complete."""
    done = r.collect(*part, now=now)  # type: ignore[arg-type]
    return None if done is None else (done.payload, done.data_coding)


def test_reassembly_8bit_16bit_and_sar_out_of_order_with_duplicates() -> None:
    r = concat.Reassembler(timeout=60)
    sms = [
        _sm(concat.udh_8bit(9, 3, 3) + b"C", concat.ESM_UDHI),
        _sm(concat.udh_8bit(9, 3, 1) + b"A", concat.ESM_UDHI),
        _sm(concat.udh_8bit(9, 3, 1) + b"A", concat.ESM_UDHI),  # duplicate
        _sm(concat.udh_16bit(700, 2, 2) + b"Y", concat.ESM_UDHI),
        _sm(
            b"X",
            tlvs={
                codec.TLV_SAR_MSG_REF_NUM: b"\x00\x05",
                codec.TLV_SAR_TOTAL_SEGMENTS: b"\x02",
                codec.TLV_SAR_SEGMENT_SEQNUM: b"\x02",
            },
        ),
        _sm(concat.udh_16bit(700, 2, 1) + b"X", concat.ESM_UDHI),
        _sm(
            b"W",
            tlvs={
                codec.TLV_SAR_MSG_REF_NUM: b"\x00\x05",
                codec.TLV_SAR_TOTAL_SEGMENTS: b"\x02",
                codec.TLV_SAR_SEGMENT_SEQNUM: b"\x01",
            },
        ),
        _sm(concat.udh_8bit(9, 3, 2) + b"B", concat.ESM_UDHI),
    ]
    done = []
    for sm in sms:
        info, payload = concat.part_info(sm)
        assert info is not None
        whole = add(r, sm.source, sm.destination, info, 0, payload, now=0.0)
        if whole:
            done.append(whole[0])
    assert done == [b"XY", b"WX", b"ABC"]
    assert len(r) == 0


def test_one_phone_s_unfinished_sets_cannot_push_out_everybody_else_s() -> None:
    """A phone sending first parts that never complete keeps at most `per_sender` sets
    (its oldest goes first); another phone's set in progress is untouched."""
    r = concat.Reassembler(timeout=60, max_sets=10, per_sender=3)
    other = concat.PartInfo(ref=1, total=2, seq=1)
    assert add(r, "6281111", "1199", other, 0, b"A", now=0.0) is None
    for ref in range(20):  # 20 first halves from one phone, never finished
        add(r, "6289999", "1199", concat.PartInfo(ref, 2, 1), 0, b"x", now=float(ref))
    assert len(r) == 1 + 3
    second = concat.PartInfo(ref=1, total=2, seq=2)
    assert add(r, "6281111", "1199", second, 0, b"B", now=30.0) == (b"AB", 0)
    late = concat.PartInfo(ref=19, total=2, seq=2)  # its newest set is still there
    assert add(r, "6289999", "1199", late, 0, b"y", now=30.0) == (b"xy", 0)
    assert len(r) == 2


def test_incomplete_set_is_dropped_after_the_timeout() -> None:
    r = concat.Reassembler(timeout=10)
    assert add(r, "62812", "1199", concat.PartInfo(1, 2, 1), 0, b"A", now=0.0) is None
    assert add(r, "62812", "1199", concat.PartInfo(2, 2, 1), 0, b"Z", now=11.0) is None
    assert r.expired == 1  # the first set was given up
    assert add(r, "62812", "1199", concat.PartInfo(1, 2, 2), 0, b"B", now=11.5) is None


def test_receipt_prefers_tlvs_and_parses_text_tolerantly() -> None:
    text = b"ID:0A1B sub:001 dlvrd:001 submit date:2101121200 done date:2101121201 Stat:UNDELIV"
    tlvs = {codec.TLV_RECEIPTED_MESSAGE_ID: b"A1B2\x00", codec.TLV_MESSAGE_STATE: b"\x02"}
    r = receipts.parse_receipt(_sm(text, 0x04, tlvs))
    assert r is not None and (r.message_id, r.state) == ("a1b2", "delivered")
    r = receipts.parse_receipt(_sm(text, 0x04))
    assert r is not None and (r.message_id, r.state) == ("0a1b", "failed")
    r = receipts.parse_receipt(_sm(b"id:2571 stat:EXPIRED", 0x04), "hex")
    assert r is not None and (r.message_id, r.state) == (str(0x2571), "expired")
    assert receipts.normalise_id("2571", "hex") == str(0x2571)
    assert receipts.parse_receipt(_sm(b"garbage", 0x04)) is None


def test_template_lint_names_ucs2_culprits_and_rejects_unknown_placeholders() -> None:
    ok = templates.lint("Halo {first_name}, balas {keyword} ke {short_code}.", "VAKSIN", "1199")
    assert (ok.encoding, ok.parts, ok.warnings) == ("gsm7", 1, [])
    bad = templates.lint("Halo {first_name} “vaksin” – aman…", "VAKSIN", "1199")
    assert bad.encoding == "ucs2"
    assert "LEFT DOUBLE QUOTATION MARK" in bad.warnings[0] and "EN DASH" in bad.warnings[0]
    assert "HORIZONTAL ELLIPSIS" in bad.warnings[0]
    with pytest.raises(templates.TemplateError, match="nama"):
        templates.lint("Halo {nama}", "VAKSIN", "1199")
    with pytest.raises(templates.TemplateError):
        templates.lint("Halo {first_name", "VAKSIN", "1199")
    text = templates.render(
        "{first_name} {nik_masked}",
        first_name="Siti",
        nik="3201014101000042",
        keyword="",
        short_code="",
    )
    assert text == "Siti 3201************"  # province and regency only


def test_quiet_hours_wrap_past_midnight_in_local_time() -> None:
    from datetime import UTC, datetime

    from smpp.blaster import in_quiet_hours

    at = lambda h: datetime(2021, 1, 12, h, 30, tzinfo=UTC)  # noqa: E731
    assert in_quiet_hours("21:00-07:00", 7, at(15))  # 22:30 WIB
    assert in_quiet_hours("21:00-07:00", 7, at(22))  # 05:30 WIB
    assert not in_quiet_hours("21:00-07:00", 7, at(3))  # 10:30 WIB
    assert not in_quiet_hours("", 7, at(15))


def test_hex_ids_in_responses_match_decimal_ids_in_receipts() -> None:
    from_resp = receipts.normalise_id("1A2B", "hex")
    r = receipts.parse_receipt(_sm(b"id:6699 stat:DELIVRD", 0x04), "decimal")
    assert r is not None and r.message_id == from_resp == "6699"


def test_long_messages_in_a_row_to_one_phone_carry_different_references() -> None:
    # The phone reassembles parts by (sender, reference): two long messages in flight
    # together to one phone must not share one, or their parts would be mixed.
    mt = MtBuilder(smpp_settings(make_test_config("mtref")))
    source = Source("PEDULICOVID", 5, 0)
    refs = []
    for text in ("a" * 200, "b" * 200, "c" * 200):
        parts = [
            codec.parse_short_message(build(1)[16:])
            for build in mt.build("6281234567890", text, source)
        ]
        infos = [concat.part_info(sm)[0] for sm in parts]
        assert [(i.total, i.seq) for i in infos] == [(2, 1), (2, 2)]
        assert infos[0].ref == infos[1].ref  # one reference for the parts of one message
        refs.append(infos[0].ref)
    assert len(set(refs)) == 3
    assert len(mt.build("6281234567890", "short", source)) == 1  # one part, no reference


@pytest.mark.parametrize(
    "tlvs",
    [
        {codec.TLV_SAR_TOTAL_SEGMENTS: b"\x00", codec.TLV_SAR_SEGMENT_SEQNUM: b"\x00"},
        {codec.TLV_SAR_TOTAL_SEGMENTS: b"\x02", codec.TLV_SAR_SEGMENT_SEQNUM: b"\x00"},
        {codec.TLV_SAR_TOTAL_SEGMENTS: b"\x02", codec.TLV_SAR_SEGMENT_SEQNUM: b"\x03"},
        {codec.TLV_SAR_SEGMENT_SEQNUM: b"\x01"},  # no total
        {codec.TLV_SAR_TOTAL_SEGMENTS: b"\x02"},  # no sequence number
    ],
    ids=["total-0", "seq-0", "seq-past-total", "no-total", "no-seq"],
)
def test_sar_numbers_a_udh_would_refuse_are_refused(tlvs: dict[int, bytes]) -> None:
    """Zeros were read as 1: total 0 passed as a whole message, seq 0 joined a set."""
    sm = _sm(b"STOP", tlvs={codec.TLV_SAR_MSG_REF_NUM: b"\x00\x05", **tlvs})
    with pytest.raises(codec.PduError):
        concat.part_info(sm)


def test_an_address_smpp_cannot_carry_is_refused_when_building() -> None:
    """A 60-digit destination_addr was written as given (SMPP 3.4 allows 20 characters)."""
    for source, destination in (("1199", "6" * 21), ("P" * 21, "6281234567890")):
        with pytest.raises(codec.PduError, match="20 characters"):
            codec.build_submit_sm(1, source=source, source_ton=5, source_npi=0,
                                  destination=destination)  # fmt: skip
    assert codec.build_submit_sm(1, source="PEDULICOVID", source_ton=5, source_npi=0,
                                 destination="6" * 20)  # fmt: skip
