"""A browser without a browser: one cookie jar, the last page, its CSRF token and hop number.

Used by the web benchmark (many at once) and by the website's HTTP tests. It posts
forms as a browser would (urlencoded, the page's token and hop) and follows the
site's 303 back to ``GET /daftar``, counting every request it makes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import aiohttp

_TOKEN = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_HOP = re.compile(r'name="hop" value="(\d+)"')
_CHOICE = re.compile(r'name="choice" value="([^"]+)"')


@dataclass
class FormClient:
    http: aiohttp.ClientSession
    base: str
    page: str = ""
    status: int = 0
    retry_after: str = ""  # the last refused answer's Retry-After
    requests: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per request

    @classmethod
    def session(cls) -> aiohttp.ClientSession:
        """A session that keeps the site's cookie (127.0.0.1 needs the "unsafe" jar)."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    @property
    def token(self) -> str:
        found = _TOKEN.search(self.page)
        return found.group(1) if found else ""

    @property
    def hop(self) -> str:
        found = _HOP.search(self.page)
        return found.group(1) if found else ""

    def choices(self) -> list[str]:
        """The keys of the page's options (radio buttons and answer buttons), in order."""
        return _CHOICE.findall(self.page)

    async def _timed(self, method: str, url: str, **kw: object) -> aiohttp.ClientResponse:
        started = time.perf_counter()
        response = await self.http.request(method, url, allow_redirects=False, **kw)  # type: ignore[arg-type]
        await response.read()
        self.latencies.append(time.perf_counter() - started)
        self.requests += 1
        return response

    async def get(self) -> str:
        response = await self._timed("GET", self.base + "/daftar")
        self.status, self.page = response.status, await response.text()
        return self.page

    async def post(self, path: str, *, token: bool = True, **fields: str) -> int:
        """Post a form of the current page; on 303 the next page is fetched. Returns the
        post's status (the page is the answer's own when it is not a redirect)."""
        data = dict(fields)
        if token:
            data.setdefault("csrf", self.token)
        if path == "/daftar/answer" and self.hop:
            data.setdefault("hop", self.hop)
        response = await self._timed("POST", self.base + path, data=data)
        status = response.status
        if status == 303:
            await self.get()
        else:
            self.status, self.page = status, await response.text()
            self.retry_after = response.headers.get("Retry-After", "")
        return status
