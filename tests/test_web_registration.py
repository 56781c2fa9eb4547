"""The registration website in a real browser on a small phone screen, with real SMS codes.

Every page is checked on the way (size, language, labels, announced errors, width)
and the important ones are kept as screenshots (test-artifacts/, not in git).
"""

from __future__ import annotations

import re

from registration.models import TicketState
from registration.service import Registry
from tests.browser import browser, needs_chromium, phone_page, screenshot  # noqa: F401
from tests.test_operator_api import book_one
from tests.test_smpp_support import sim_fixture  # noqa: F401
from tests.ussd_harness import PHONE, last6, nik
from tests.web_harness import Site, check_page, sign_in, site_fixture  # noqa: F401

pytestmark = needs_chromium
TICKET = re.compile(r"Kode tiket: ([A-Z0-9]{6,})")


async def go_on(page, site: Site, step: str, button: str = "Lanjut") -> str:
    """Press `button`; check the page it leads to; returns its text."""
    await page.get_by_role("button", name=button, exact=True).click()
    await check_page(page, site, step)
    return await page.locator("main").inner_text()


async def enter_nik(page, site: Site, digits: str) -> str:
    await check_page(page, site, "nik")
    await page.get_by_label("6 digit terakhir NIK").fill(digits)
    return await go_on(page, site, "after-nik")


async def test_a_whole_registration_ends_on_the_ticket_page(site: Site, phone_page) -> None:  # noqa: F811
    page = phone_page
    await sign_in(page, site, PHONE)
    assert "Lokasi vaksin: Puskesmas Coblong" in await enter_nik(page, site, last6(1))
    await page.get_by_label("Benar, lanjut").check()
    text = await go_on(page, site, "screening-1")
    await screenshot(page, "web-screening")
    answered = 0
    while re.search(r"\(\d+/\d+\)", text):  # one screening question per page
        answered += 1
        text = await go_on(page, site, f"screening-{answered}", "Tidak")
    assert answered == 5
    assert "Pilih jadwal" in text and "Halaman 1 dari" in text
    assert await page.locator("input[type=radio]").count() == 8  # [web] list_page_size
    await screenshot(page, "web-slots")
    text = await go_on(page, site, "slots-2", "Berikutnya")
    assert "Halaman 2 dari" in text
    await page.locator("input[type=radio]").first.check()
    assert "Konfirmasi" in await go_on(page, site, "confirm")
    await page.get_by_label("Ya, daftarkan").check()
    text = await go_on(page, site, "ticket")
    code = TICKET.search(text).group(1)
    qr = page.get_by_role("img", name=re.compile(f"QR tiket {code}"))
    assert await qr.count() == 1 and await qr.evaluate("e => e.tagName") == "svg"
    assert "Dosis 2: sekitar" in text
    video = page.get_by_role("link", name="Tonton: cara kerja vaksin")
    assert await video.get_attribute("href") == "https://www.kemkes.go.id/vaksin/video"
    assert "/tickets/" not in await page.content()  # the QR is drawn here, not linked
    await screenshot(page, "web-ticket")
    # The ticket SMS went out as well, from the sender id, with the same code.
    data = await site.sim.call(f"/messages?to={PHONE}")
    tickets = [t for t, s in zip(data["messages"], data["senders"], strict=True) if code in t]
    assert tickets and "PEDULICOVID" in data["senders"]


async def test_already_registered_sees_the_ticket_then_reschedules_and_cancels(
    site: Site,
    phone_page,  # noqa: F811
    config,
    redis,
) -> None:
    page = phone_page
    first_code = await book_one(config, redis)
    await sign_in(page, site, PHONE)
    status = await enter_nik(page, site, last6(1))
    assert f"Kode tiket: {first_code} (aktif)" in status
    assert await page.get_by_role("img", name=re.compile(first_code)).count() == 1
    await screenshot(page, "web-status")
    await page.get_by_label("Ubah/batal jadwal").check()
    assert "Jadwal Anda" in await go_on(page, site, "change")
    await page.get_by_label("Ubah jadwal").check()
    await go_on(page, site, "reschedule-slots")
    await page.locator("input[type=radio]").nth(3).check()
    await go_on(page, site, "reschedule-confirm")
    await page.get_by_label("Ya, daftarkan").check()
    new_code = TICKET.search(await go_on(page, site, "rescheduled")).group(1)
    assert new_code != first_code
    # Start again: the status shows the new ticket; cancel it.
    await go_on(page, site, "again", "Mulai lagi")
    assert f"Kode tiket: {new_code} (aktif)" in await enter_nik(page, site, last6(1))
    await page.get_by_label("Ubah/batal jadwal").check()
    await go_on(page, site, "change-2")
    await page.get_by_label("Batalkan").check()
    assert "Batalkan jadwal" in await go_on(page, site, "cancel-confirm")
    text = await go_on(page, site, "cancelled", "Ya")
    assert "Jadwal dibatalkan" in text and await page.locator("svg").count() == 0
    await screenshot(page, "web-cancelled")
    status = await Registry.from_config(config, redis).status_by_nik(nik(1))
    assert status is not None and status.ticket.state is TicketState.CANCELLED


async def test_a_wrong_code_three_times_voids_it(site: Site, phone_page) -> None:  # noqa: F811
    page = phone_page
    await page.goto(site.daftar)
    await page.get_by_label("Nomor HP").fill("+62 812-0000-0001")
    await page.get_by_role("button", name="Kirim kode").click()
    code = await site.next_code(PHONE, 0)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for step, message in enumerate(
        ["Kode salah. Sisa 2 kali.", "Kode salah. Sisa 1 kali.", "tidak berlaku lagi"], 1
    ):
        await page.get_by_label("Kode dari SMS").fill(wrong)
        await go_on(page, site, f"wrong-{step}")
        assert message in await page.get_by_role("alert").inner_text()
        assert await page.get_attribute("#f-code", "aria-describedby") == "f-code-error"
    await screenshot(page, "web-wrong-code")
    await page.get_by_label("Kode dari SMS").fill(code)  # the right one, too late
    await go_on(page, site, "void")
    assert "Minta kode baru" in await page.get_by_role("alert").inner_text()
    await go_on(page, site, "resent", "Kirim ulang kode")
    await page.get_by_label("Kode dari SMS").fill(await site.next_code(PHONE, 1))
    await go_on(page, site, "proven")
    assert await page.get_by_label("6 digit terakhir NIK").count() == 1


async def test_the_site_switches_to_english_and_back(site: Site, phone_page) -> None:  # noqa: F811
    page = phone_page
    await page.goto(site.daftar)
    await go_on(page, site, "phone-en", "English")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.get_by_label("Mobile number").count() == 1
    await go_on(page, site, "phone-id", "Bahasa Indonesia")
    await sign_in(page, site, PHONE)
    await go_on(page, site, "nik-en", "English")
    await page.get_by_label("last 6 digits of your NIK").fill("12")
    await go_on(page, site, "nik-error-en", "Continue")
    assert await page.get_by_role("alert").inner_text() == "Must be 6 digits."
    await page.get_by_label("last 6 digits of your NIK").fill(last6(1))
    assert "Vaccination site" in await go_on(page, site, "worker-en", "Continue")
    await screenshot(page, "web-english")
    await go_on(page, site, "worker-id", "Bahasa Indonesia")
    assert await page.get_by_label("Benar, lanjut").count() == 1
