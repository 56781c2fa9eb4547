"""SMPP 3.4 numbers: command ids, command status codes, TLV tags (no smpplib here)."""

from __future__ import annotations

# Command ids.
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
DATA_SM = 0x00000103
DATA_SM_RESP = 0x80000103
ALERT_NOTIFICATION = 0x00000102  # no response (SMPP 3.4, 4.12)
RESP_BIT = 0x80000000

# Every command id SMPP 3.4 and 5.0 define (and the SMSC vendors' range, 0x00010200-
# 0x000102FF): a header naming anything else is no PDU but bytes out of step.
_REQUESTS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x15, 0x21, 0x103)
_REQUESTS_5 = (0x111, 0x112, 0x113)  # broadcast_sm, query_ and cancel_broadcast_sm
KNOWN_COMMANDS = frozenset(
    (
        *_REQUESTS,
        *_REQUESTS_5,
        *(cid | RESP_BIT for cid in (*_REQUESTS, *_REQUESTS_5)),
        0x0B,  # outbind
        ALERT_NOTIFICATION,
        GENERIC_NACK,
        *range(0x00010200, 0x00010300),
        *range(0x80010200, 0x80010300),
    )
)

BIND_NAMES = {
    BIND_TRANSMITTER: "bind_transmitter",
    BIND_RECEIVER: "bind_receiver",
    BIND_TRANSCEIVER: "bind_transceiver",
}

# Command status codes we act on.
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RINVSRCADR = 0x0A  # a USSD hop from an address that is no Indonesian mobile
ESME_RINVSERTYP = 0x15  # a USSD hop on a bind that does not carry USSD
ESME_RINVPARLEN = 0xC2  # a TLV of the wrong length
ESME_RMISSINGOPTPARAM = 0xC3  # a USSD hop without its session reference
# Our own code for "no answer in time / connection lost" (never sent on the wire).
LOCAL_TIMEOUT = -1
LOCAL_DISCONNECTED = -2

TEMPORARY = frozenset(
    {
        ESME_RTHROTTLED,
        ESME_RMSGQFUL,
        ESME_RX_T_APPN,
        ESME_RSYSERR,
        LOCAL_TIMEOUT,
        LOCAL_DISCONNECTED,
        GENERIC_NACK,
    }
)

STATUS_NAMES = {
    ESME_ROK: "ROK",
    ESME_RINVMSGLEN: "RINVMSGLEN",
    ESME_RINVCMDLEN: "RINVCMDLEN",
    ESME_RINVCMDID: "RINVCMDID",
    ESME_RINVBNDSTS: "RINVBNDSTS",
    ESME_RALYBND: "RALYBND",
    ESME_RSYSERR: "RSYSERR",
    ESME_RINVDSTADR: "RINVDSTADR",
    ESME_RBINDFAIL: "RBINDFAIL",
    ESME_RINVPASWD: "RINVPASWD",
    ESME_RINVSYSID: "RINVSYSID",
    ESME_RMSGQFUL: "RMSGQFUL",
    ESME_RTHROTTLED: "RTHROTTLED",
    ESME_RX_T_APPN: "RX_T_APPN",
    ESME_RX_P_APPN: "RX_P_APPN",
    ESME_RINVSRCADR: "RINVSRCADR",
    ESME_RINVSERTYP: "RINVSERTYP",
    ESME_RINVPARLEN: "RINVPARLEN",
    ESME_RMISSINGOPTPARAM: "RMISSINGOPTPARAM",
    LOCAL_TIMEOUT: "timeout",
    LOCAL_DISCONNECTED: "disconnected",
    GENERIC_NACK: "generic_nack",
}

# TLV tags.
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_USER_MESSAGE_REFERENCE = 0x0204
TLV_USSD_SERVICE_OP = 0x0501
TLV_ITS_SESSION_INFO = 0x1383

# ussd_service_op values (SMPP 3.4, 5.3.2.44); 32-255 are vendor-specific.
USSD_PSSD_INDICATION = 0
USSD_PSSR_INDICATION = 1
USSD_USSR_REQUEST = 2
USSD_USSN_REQUEST = 3
USSD_PSSD_RESPONSE = 16
USSD_PSSR_RESPONSE = 17
USSD_USSR_CONFIRM = 18
USSD_USSN_CONFIRM = 19
USSD_USER_RELEASE = 0x81  # vendor-specific (Mica, 6D): the user ended the session


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:08X}" if status >= 0 else str(status))


def is_temporary(status: int) -> bool:
    return status in TEMPORARY
