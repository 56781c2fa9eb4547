"""USSD over SMPP without a network: hand-built PDUs through the codec and each variant."""

from __future__ import annotations

import dataclasses

import pytest

from core.config import ConfigError, load_config
from devtools.smsc_ussd import session_tlvs
from dialogue.model import Outbound, SessionEvent
from smpp import codec
from smpp.settings import BindSettings, smpp_settings
from smpp.ussd import Refused, build_reply, read_hop
from smpp.ussd_variants import VARIANTS

PHONE = "6281200000001"
NEW, CONTINUE, CLOSE = SessionEvent.NEW, SessionEvent.CONTINUE, SessionEvent.CLOSE


def bind(variant: str = "standard") -> BindSettings:
    base = smpp_settings(load_config(environ={})).binds("devpass")[0]
    return dataclasses.replace(base, ussd_variant=variant)


def deliver(text: bytes, tlvs: bytes, source: str = PHONE, sequence: int = 7) -> bytes:
    """A deliver_sm as a USSD network sends it (header included)."""
    return codec.build_submit_sm(
        sequence,
        service_type="USSD",
        source=source,
        source_ton=1,
        source_npi=1,
        destination="119",
        dest_ton=0,
        dest_npi=0,
        registered_delivery=0,
        short_message=text,
        tlvs=tlvs,
        command_id=codec.DELIVER_SM,
    )


def hop_of(raw: bytes, variant: str = "standard"):
    return read_hop(codec.parse_short_message(raw[16:]), bind(variant), "gsm7")


def test_smpplib_cannot_read_a_ussd_deliver_sm_but_the_codec_can() -> None:
    raw = deliver(b"*119#", codec.ussd_tlvs(1, 0x2A00, 0x0102))
    with pytest.raises(codec.PduError, match="KeyError"):
        codec.parse_with_smpplib(raw)  # smpplib 2.2.4's DeliverSM lacks ussd_service_op
    sm = codec.parse_short_message(raw[16:])
    assert codec.is_ussd(sm) and sm.service_type == "USSD" and sm.short_message == b"*119#"
    assert codec.ussd_fields(sm) == codec.UssdFields(1, 0x2A00, 0x0102)


def test_a_ussd_submit_sm_reads_back_in_smpplib() -> None:
    hop = hop_of(deliver(b"1", codec.ussd_tlvs(18, 0x2A00)))
    raw = build_reply(hop, Outbound("1. Ya\n2. Tidak", end=False), bind(), gsm_dc0=True)(9)
    fields = codec.parse_with_smpplib(raw)
    assert fields["command"] == "submit_sm" and fields["service_type"] == b"USSD"
    assert fields["ussd_service_op"] == codec.USSD_USSR_REQUEST
    assert fields["its_session_info"] == 0x2A00
    assert fields["source_addr"] == b"119" and fields["destination_addr"] == PHONE.encode()
    assert fields["short_message"] == b"1. Ya\n2. Tidak" and fields["registered_delivery"] == 0


@pytest.mark.parametrize(
    ("variant", "op", "isi", "umr", "event", "session_id", "hop"),
    [
        ("standard", 1, 0x2A00, None, NEW, "2a00", None),
        ("standard", 18, 0x2A06, None, CONTINUE, "2a00", None),  # sequence bits ignored
        ("standard", 18, 0x2A01, None, CLOSE, "2a00", None),  # the end bit
        ("standard", 0x81, 0x2A00, None, CLOSE, "2a00", None),
        ("sequenced", 18, 0x2A06, None, CONTINUE, "2a00", 3),
        ("sequenced", 1, 0x2A06, None, NEW, "2a00", None),  # a first hop has no number
        ("vumi", 2, 0x1235, None, CLOSE, "1234", None),
        ("vumi", 0x12, 0x1234, None, CONTINUE, "1234", None),
        ("vumi", 0x11, 0x1234, None, CLOSE, "1234", None),
        ("vumi", 0x55, 0x1234, None, CLOSE, "1234", None),  # vumi: anything else closes
        ("mica", 1, None, 0x0042, NEW, "0042", None),
        ("mica", 0x81, None, 0x0042, CLOSE, "0042", None),
        ("mica", 0x55, None, 0x0042, CONTINUE, "0042", None),  # Mica: anything else answers
        ("sixdee", 18, 0xBEEE, None, CONTINUE, "beee", None),
        ("sixdee", 18, 0xBEEF, None, CLOSE, "beee", None),
    ],
)
def test_each_variant_reads_event_session_and_hop(
    variant: str,
    op: int,
    isi: int | None,
    umr: int | None,
    event: SessionEvent,
    session_id: str,
    hop: int | None,
) -> None:
    got = hop_of(deliver(b"2", codec.ussd_tlvs(op, isi, umr)), variant)
    assert got is not None
    inbound = got.inbound
    assert (inbound.event, inbound.session_id, inbound.hop) == (event, session_id, hop)
    assert inbound.msisdn == PHONE and inbound.dialect == "smpp"
    assert inbound.text == ("" if event is NEW else "2")


def test_first_hop_carries_the_dialled_string_and_later_hops_the_bind_code() -> None:
    first = hop_of(deliver(b"*119*1#", codec.ussd_tlvs(1, 0x0100))).inbound
    later = hop_of(deliver(b"1", codec.ussd_tlvs(18, 0x0100))).inbound
    assert (first.service_code, first.text) == ("*119*1#", "")
    assert (later.service_code, later.text) == ("*119#", "1")


def test_an_op_the_standard_table_does_not_know_is_ignored() -> None:
    assert hop_of(deliver(b"", codec.ussd_tlvs(codec.USSD_USSN_CONFIRM, 0x0100))) is None


@pytest.mark.parametrize(
    ("tlvs", "source", "status"),
    [
        (codec.tlv(codec.TLV_USSD_SERVICE_OP, b"\x01\x00"), PHONE, codec.ESME_RINVPARLEN),
        (codec.ussd_tlvs(1) + codec.tlv(codec.TLV_ITS_SESSION_INFO, b"\x01"), PHONE,
         codec.ESME_RINVPARLEN),
        (codec.ussd_tlvs(1), PHONE, codec.ESME_RMISSINGOPTPARAM),
        (codec.tlv(codec.TLV_ITS_SESSION_INFO, 0x0100, 2), PHONE, codec.ESME_RMISSINGOPTPARAM),
        (codec.ussd_tlvs(1, 0x0100), "0215550123", codec.ESME_RINVSRCADR),
    ],
)  # fmt: skip
def test_unusable_hops_are_refused_with_the_status_that_names_the_fault(
    tlvs: bytes, source: str, status: int
) -> None:
    with pytest.raises(Refused) as info:
        hop_of(deliver(b"*119#", tlvs, source))
    assert info.value.status == status


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("end", [False, True])
def test_the_answer_echoes_the_session_with_the_variants_ops(variant: str, end: bool) -> None:
    table = VARIANTS[variant]
    hop = hop_of(deliver(b"1", session_tlvs(table, 0x21, 2, table.first_op(CONTINUE), False)),
                 variant)  # fmt: skip
    raw = build_reply(hop, Outbound("Terima kasih", end=end), bind(variant), gsm_dc0=True)(3)
    reply = codec.ussd_fields(codec.parse_short_message(raw[16:]))
    assert reply.op == (table.reply_end if end else table.reply_continue)
    if table.session_tlv == codec.TLV_USER_MESSAGE_REFERENCE:
        assert reply.user_message_reference == hop.fields.user_message_reference
    else:  # the same its_session_info, the end bit set on the last screen only
        assert reply.its_session_info == hop.fields.its_session_info | int(end)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_simulated_network_and_the_edge_read_a_variant_the_same_way(variant: str) -> None:
    table = VARIANTS[variant]

    def hop_for(reference: int, event: SessionEvent):
        tlvs = session_tlvs(table, reference, 5, table.first_op(event), end=event is CLOSE)
        return hop_of(deliver(b"*119#" if event is NEW else b"1", tlvs), variant)

    hops = [hop_for(0x2B, event) for event in (NEW, CONTINUE, CLOSE)]
    assert [h.inbound.event for h in hops] == [NEW, CONTINUE, CLOSE]
    assert len({h.inbound.session_id for h in hops}) == 1  # one dialogue
    assert hop_for(0x2C, CONTINUE).inbound.session_id != hops[0].inbound.session_id


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"smpp.ussd_variant": "nokia"}, "ussd_variant 'nokia': one of standard"),
        ({"smpp.channels": ["sms", "mms"]}, "smpp.channels[1] = 'mms': one of sms, ussd"),
        ({"smpp.connections": [{}, {"channels": []}]}, "[smpp.connections#2] channels is empty"),
        (
            {"smpp.connections": [{"ussd_varient": "mica"}]},
            "[smpp.connections#1] unknown setting(s): ussd_varient",
        ),
    ],
)
def test_a_wrong_bind_setting_stops_start_up_with_the_reason(
    overrides: dict[str, object], reason: str
) -> None:
    with pytest.raises(ConfigError) as info:
        smpp_settings(load_config(environ={}, overrides=overrides)).binds("devpass")
    assert reason in str(info.value)
