"""Gateway dialects: each module translates one gateway's request into an Inbound and back.

A dialect module has ``NAME``, ``CONTENT_TYPES``, ``parse(body) -> Inbound``
(raising :class:`gateways.parsing.BadRequest` with a reason), ``reply(inbound,
outbound)`` and ``error(status, reason)`` returning an aiohttp response in the
gateway's own format. Adding a gateway = one module + one entry in :data:`DIALECTS`
+ one ``[ussd.dialects.<name>]`` table in config.toml.
"""

from __future__ import annotations

from types import ModuleType

from gateways.dialects import africastalking, hubtel, json_api

DIALECTS: dict[str, ModuleType] = {m.NAME: m for m in (africastalking, hubtel, json_api)}
