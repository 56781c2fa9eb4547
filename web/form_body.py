"""An HTML form's posted body, read without trusting it.

Every form these pages serve posts ``application/x-www-form-urlencoded`` in UTF-8.
aiohttp's ``request.post()`` raises on a body that is not that (a multipart type with
no boundary or a torn part, bytes that are not UTF-8, an unknown charset), which
would reach the client as a 500 with a traceback in the log. Here such a body is
``None``, and the page answers it with a 400 of its own. So is a body without a
``Content-Length`` (chunked) or over the page's limit: aiohttp would read either into
memory, up to the uploads' limit, before the page saw it.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

FORM_TYPE = "application/x-www-form-urlencoded"

Form = MultiDictProxy[str | bytes | web.FileField]


async def read_form(request: web.Request, max_bytes: int) -> Form | None:
    """The posted form, or None when the body is not a readable url-encoded form of a
    declared length of at most `max_bytes` (nothing is read then)."""
    length = request.content_length
    if request.content_type != FORM_TYPE or length is None or length > max_bytes:
        return None
    try:
        return await request.post()
    except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
        return None
