"""The website's own texts (``menus/web.toml``): page labels, errors, the one-time code SMS.

Screens of the dialogue keep their texts in ``menus/dialogue.toml``; what only the
website says lives here, in every language, checked at start-up like the menus.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dialogue.gsm import to_gsm
from dialogue.menus import LANGUAGES, MenuError, fill

REQUIRED = (
    *(
        "title",
        "brand",
        "other_language",
        "phone_intro",
        "phone_label",
        "phone_invalid",
        "send_code",
    ),
    *("code_intro", "code_label", "code_format", "code_wrong", "code_used_up", "code_none"),
    *("phone_limited", "client_limited", "resend_code", "change_phone", "next", "back"),
    *("more", "main_menu", "page_of", "start_again", "log_out", "ticket_heading", "qr_label"),
    *("dose2_due", "dose2_planned", "video", "session_over", "form_expired", "busy", "otp_sms"),
)


@dataclass(frozen=True, slots=True)
class WebTexts:
    texts: dict[str, dict[str, str]]

    def get(self, key: str, lang: str, **values: object) -> str:
        text = self.texts[key][lang if lang in LANGUAGES else LANGUAGES[0]]
        return fill(text, {k: str(v) for k, v in values.items()}) if values else text

    def otp_sms(self, code: str, lang: str, minutes: int) -> str:
        return to_gsm(self.get("otp_sms", lang, code=code, minutes=minutes))


def load_texts(path: str | Path) -> WebTexts:
    """Read and check the file: every required text, in every language."""
    try:
        with Path(path).open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MenuError(f"{path}: {exc}") from None
    table = raw.get("texts")
    if not isinstance(table, Mapping):
        raise MenuError(f"{path}: no [texts]")
    texts: dict[str, dict[str, str]] = {}
    for key, value in table.items():
        if not isinstance(value, Mapping) or not all(
            isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES
        ):
            raise MenuError(f"{path}: texts.{key} needs {' and '.join(LANGUAGES)}")
        texts[key] = {lang: value[lang] for lang in LANGUAGES}
    missing = [key for key in REQUIRED if key not in texts]
    if missing:
        raise MenuError(f"{path}: missing text(s): {', '.join(missing)}")
    return WebTexts(texts)
