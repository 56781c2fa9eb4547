"""The Graph API's send endpoint: ``POST {graph_base_url}/{phone_number_id}/messages``.

One aiohttp ClientSession per process (opened by :meth:`GraphClient.start`), the
access token as a bearer token. Every answer is sorted into what the sender does
next: sent (the Graph message id), retry later (429, 5xx, no answer, throughput
errors, a token or permission problem an operator can fix), or give up (the
message itself was refused).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

log = logging.getLogger(__name__)

# Graph error codes that mean "not now" rather than "never": rate and pair-rate limits.
RETRY_CODES = frozenset({4, 80007, 130429, 131048, 131056})
WINDOW_CODE = 131047  # "re-engagement message": the 24-hour window has closed


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: str  # "sent", "retry", "failed" or "window"
    message_id: str = ""  # the Graph message id (wamid...) when sent
    reason: str = ""
    retry_after: float = 0.0  # seconds, from a Retry-After header


def _error(body: Any) -> tuple[int, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return 0, ""
    code = error.get("code")
    return (code if isinstance(code, int) else 0), str(error.get("message", ""))[:200]


def _retry_after(headers: Any) -> float:
    try:
        return max(0.0, float(headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


def classify(status: int, body: Any, retry_after: float = 0.0) -> SendResult:
    """One Graph answer as the sender's next step."""
    code, message = _error(body)
    if status in (200, 201):
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return SendResult("sent", str(messages[0].get("id", "")))
        return SendResult("retry", reason=f"HTTP {status} without a message id")
    reason = f"HTTP {status} code {code}: {message}" if code else f"HTTP {status}"
    if code == WINDOW_CODE:
        return SendResult("window", reason=reason)
    if status == 429 or status >= 500 or code in RETRY_CODES:
        return SendResult("retry", reason=reason, retry_after=retry_after)
    if status in (401, 403):
        log.error("Graph API refused our credentials (%s): check the access token", reason)
        return SendResult("retry", reason=reason)
    return SendResult("failed", reason=reason)


class GraphClient:
    def __init__(self, base_url: str, phone_number_id: str, token: str, timeout: float) -> None:
        self.url = f"{base_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._http is None:
            connector = aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
            self._http = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, connector=connector
            )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def send(self, to: str, message: dict[str, Any]) -> SendResult:
        """Send one message to `to`; never raises for a network or Graph failure."""
        if self._http is None:
            await self.start()
        assert self._http is not None
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        payload.update(message)
        try:
            async with self._http.post(self.url, data=orjson.dumps(payload)) as resp:
                raw = await resp.read()
                try:
                    body = orjson.loads(raw) if raw else {}
                except orjson.JSONDecodeError:
                    body = {}
                return classify(resp.status, body, _retry_after(resp.headers))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return SendResult("retry", reason=f"no answer: {type(exc).__name__} {exc}"[:200])
