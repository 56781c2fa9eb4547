"""The website's :class:`dialogue.model.Layout`: long form texts, lists in pages of radio buttons.

The page itself is drawn from ``Outbound.view`` (``web.screens``); the text this
layout gives the engine is only what it keeps for a repeated form (the body).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialogue.model import View, ViewKind


@dataclass(frozen=True, slots=True)
class WebLayout:
    page_size: int  # list rows per page ([web] list_page_size)
    long_form: bool = True  # room for the QR and video links

    def pages(self, view: View) -> int:
        if view.kind is not ViewKind.LIST:
            return 1
        return max(1, math.ceil(len(view.items) / self.page_size))

    def rows(self, view: View) -> tuple[int, int]:
        """The list rows on the view's page: (first index, end index)."""
        page = min(view.page, self.pages(view) - 1)
        start = page * self.page_size
        return start, min(start + self.page_size, len(view.items))

    def text(self, view: View) -> str:
        return view.body
