"""An HTML form's posted body, read without trusting it.

Every form these pages serve posts ``application/x-www-form-urlencoded`` in UTF-8.
aiohttp's ``request.post()`` raises on a body that is not that (a multipart type with
no boundary or a torn part, bytes that are not UTF-8, an unknown charset), which
would reach the client as a 500 with a traceback in the log. Here such a body is
``None``, and the page answers it with a 400 of its own.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

FORM_TYPE = "application/x-www-form-urlencoded"

Form = MultiDictProxy[str | bytes | web.FileField]


async def read_form(request: web.Request) -> Form | None:
    """The posted form, or None when the body is not a readable url-encoded form."""
    if request.content_type != FORM_TYPE:
        return None
    try:
        return await request.post()
    except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
        return None
