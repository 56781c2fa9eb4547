"""What users type, in process on memory stores: "0" through the screening questions, and
NIK digits from a keyboard in another script, on every channel's layout."""

from __future__ import annotations

import pytest

from dialogue.model import Channel, Layout
from dialogue.session import SessionRef
from tests.dialogue_harness import Dialogue, Handset
from tests.test_dialogue_flow import dialogue_fixture  # noqa: F401  (fixture)
from tests.ussd_harness import PHONE, last6
from web.layout import WebLayout
from whatsapp.render import WhatsAppLayout

LAYOUTS = ["ussd", "sms", "web", "whatsapp"]


def handset(dialogue: Dialogue, channel: str) -> Handset:
    layouts: dict[str, Layout | None] = {
        "ussd": None,  # the engine's own USSD layout (160 septets)
        "sms": dialogue.engine.layout(Channel.SMS),
        "web": WebLayout(page_size=10),
        "whatsapp": WhatsAppLayout(),
    }
    return Handset(dialogue.engine, PHONE, f"answers-{channel}", layout=layouts[channel])


async def to_nik(phone: Handset) -> None:
    await phone.dial()
    assert "tenaga kesehatan" in (await phone.send("1")).text
    assert (await phone.send("1")).view.screen_id == "nik"


async def where(phone: Handset, text: str) -> tuple[str, int]:
    out = await phone.send(text)
    return out.view.screen_id, out.view.page


@pytest.mark.parametrize("channel", LAYOUTS)
async def test_back_walks_the_screening_questions_and_leaves_them(dialogue, channel) -> None:
    phone = handset(dialogue, channel)
    await to_nik(phone)
    assert (await phone.send(last6(1))).view.screen_id == "worker_confirm"
    assert await where(phone, "1") == ("screening", 0)  # this site: question 1
    ref = SessionRef("json", phone.session_id, PHONE)
    depth = len((await dialogue.sessions.load(ref, with_resume=False)).session.stack)
    for _ in range(3):
        assert await where(phone, "2") == ("screening", 1)
        assert await where(phone, "2") == ("screening", 2)
        assert await where(phone, "0") == ("screening", 1)
        assert await where(phone, "0") == ("screening", 0)
    # Back from question 1: the screen before the screening, at once.
    assert await where(phone, "0") == ("worker_confirm", 0)
    assert await where(phone, "1") == ("screening", 0)
    session = (await dialogue.sessions.load(ref, with_resume=False)).session
    assert len(session.stack) == depth  # the round trips left nothing behind
    assert session.answers == {}


@pytest.mark.parametrize("channel", LAYOUTS)
async def test_nik_digits_of_another_script_are_read_as_digits(dialogue, channel) -> None:
    phone = handset(dialogue, channel)
    await to_nik(phone)
    arabic = "".join(chr(0x0660 + int(d)) for d in last6(1))  # ٠١٢...
    wrong_wide = "".join(chr(0xFF10 + int(d)) for d in "000000")  # full-width ０
    assert "Sisa 2 kali" in (await phone.send(wrong_wide)).text  # counted: a real guess
    assert "Sisa 1 kali" in (await phone.send("۰۰۰۰۰۱")).text  # Persian digits, wrong
    assert (await phone.send(arabic)).view.screen_id == "worker_confirm"
