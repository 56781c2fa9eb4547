"""The simulator's control port (HTTP/JSON) and its process entry point.

GET  /stats                 submits, throttled, drops, binds, submits per bind, the last
                            binds and drops (monotonic times), CPU seconds used
GET  /counts                submits per destination
GET  /messages?to=62...     MT texts to a number (multipart joined) and every part as it
                            came: [sender, [ref, total, seq] or null]
POST /inject   {"from", "to", "text", "mode": "udh"|"sar"}   an incoming SMS
POST /inject   {"from", "repeat": true}      that phone's last SMS again, byte for byte
               (same sequence numbers), as when the ESME's deliver_sm_resp was lost
POST /ussd     {"from", "text", "to"?, "abort"?, "repeat"?, "wait"?}
               a USSD handset dials ("*119#"), answers, hangs up (abort) or the network
               repeats the last hop; answers with the screen the service sent back
GET  /ussd?msisdn=62...     that handset's screens and whether a dialogue is open
POST /ussd/journeys {"phones": [[msisdn, digits]...], "handsets", "seconds", "script"}
                            many handsets play a scripted journey (benchmark load)
POST /raw      {"hex": "..."}                                raw bytes to every ESME
POST /config   {"throttle_every", "max_rate", "drop_after", "refuse_part", "latency",
                "receipts", "stall_sms", "throttle_sms", "sms_error", "refuse_ussd",
                "refuse_ussd_status", "early_pdus", ...}
POST /reset                 forget counts and texts
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import resource
import time

from aiohttp import web

from core.digits import is_digits
from core.httpjson import json_error, read_json_object
from devtools import smsc_deliver
from devtools.smsc import serve
from devtools.smsc_journeys import Script, play
from devtools.smsc_settings import SimSettings
from devtools.smsc_state import SimState, messages_to
from smpp.ussd_variants import VARIANTS

log = logging.getLogger(__name__)
STATE: web.AppKey[SimState] = web.AppKey("sim_state", SimState)
_SWITCHES = {
    "early_pdus",
    "throttle_every",
    "max_rate",
    "drop_after",
    "refuse_part",
    "latency",
    "stall_sms",
    "throttle_sms",
    "sms_error",
    "refuse_ussd",
    "refuse_ussd_status",
    "receipts",
    "receipt_delay",
    "receipt_stat",
    "password",
    "system_id",
    "ussd_variant",
}
MAX_USSD_WAIT = 30.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def stats(request: web.Request) -> web.Response:
    st = request.app[STATE]
    return web.json_response(
        {
            "submits": st.submits,
            "throttled": st.throttled,
            "drops": st.drops,
            "binds": len([c for c in st.connections if c.bound]),
            # submit_sm per bind: the open ones, then those closed since the last reset
            "bind_submits": [c.submits for c in st.connections if c.bound]
            + list(st.closed_submits),
            "events": list(st.events),
            "binds_rejected": st.binds_rejected,
            "cpu_seconds": cpu_seconds(),
            "deliver_resp": {str(k): v for k, v in st.deliver_resp.items()},
            # seconds from each deliver_sm to its response, the last 200
            "deliver_resp_seconds": list(st.deliver_resp_seconds),
            "responses": dict(st.responses),
            "settings": dataclasses.asdict(st.settings),
        }
    )


async def counts(request: web.Request) -> web.Response:
    return web.json_response(dict(request.app[STATE].counts))


async def messages(request: web.Request) -> web.Response:
    to = request.query.get("to", "")
    st = request.app[STATE]
    found = messages_to(st, to)
    parts = [[sender, ref] for sender, _, ref in st.texts.get(to, ())]
    return web.json_response(
        {
            "to": to,
            "messages": [t for _, t in found],
            "senders": [f for f, _ in found],
            "parts": parts,
        }
    )


async def inject(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    sender, to, text = str(data.get("from", "")), str(data.get("to", "1199")), data.get("text")
    repeat = data.get("repeat") is True
    if not is_digits(sender) or not (repeat or isinstance(text, str)):
        raise json_error(web.HTTPBadRequest, "need from (digits) and text (or repeat: true)")
    st = request.app[STATE]
    try:
        if repeat:
            parts = smsc_deliver.repeat_mo(st, sender)
        else:
            parts = smsc_deliver.inject_mo(st, sender, to, text, mode=str(data.get("mode", "udh")))
    except LookupError as exc:
        raise json_error(web.HTTPConflict, str(exc)) from exc
    return web.json_response({"parts": parts})


async def raw(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    try:
        payload = bytes.fromhex(str(data.get("hex", "")))
    except ValueError as exc:
        raise json_error(web.HTTPBadRequest, "hex must be hexadecimal") from exc
    return web.json_response({"connections": smsc_deliver.inject_raw(request.app[STATE], payload)})


async def ussd_hop(request: web.Request) -> web.Response:
    """One handset hop; waits (up to ``wait`` seconds) for the screen it gets back."""
    data = await read_json_object(request)
    st = request.app[STATE]
    msisdn, text = str(data.get("from", "")), data.get("text", "")
    abort, repeat = bool(data.get("abort")), bool(data.get("repeat"))
    if not is_digits(msisdn) or not isinstance(text, str) or not (text or abort or repeat):
        raise json_error(web.HTTPBadRequest, "need from (digits) and text (or abort / repeat)")
    try:
        wait = min(float(data.get("wait", 5.0)), MAX_USSD_WAIT)
    except (TypeError, ValueError) as exc:
        raise json_error(web.HTTPBadRequest, "wait must be a number of seconds") from exc
    try:
        shown = await smsc_deliver.ussd_exchange(
            st, msisdn, text, wait=wait, to=str(data.get("to", "")), abort=abort, repeat=repeat
        )
    except LookupError as exc:
        raise json_error(web.HTTPConflict, str(exc)) from exc
    except TimeoutError as exc:
        raise json_error(web.HTTPGatewayTimeout, f"no USSD screen within {wait:g} s") from exc
    if shown is None:
        return web.json_response({"msisdn": msisdn, "closed": True})
    return web.json_response({"msisdn": msisdn, **dataclasses.asdict(shown)})


async def ussd_journeys(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    try:
        script = Script.from_json(data["script"])
        phones = [(str(m), str(d)) for m, d in data["phones"]]
        handsets, seconds = int(data.get("handsets", 10)), float(data.get("seconds", 10.0))
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise json_error(web.HTTPBadRequest, f"bad journeys request: {exc!r}") from exc
    summary = await play(request.app[STATE], phones, max(1, handsets), seconds, script)
    return web.json_response(summary)


async def ussd_screens(request: web.Request) -> web.Response:
    msisdn = request.query.get("msisdn", "")
    return web.json_response(request.app[STATE].handsets.history(msisdn))


async def configure(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    st = request.app[STATE]
    unknown = set(data) - _SWITCHES
    if unknown:
        raise json_error(web.HTTPBadRequest, f"unknown switches: {sorted(unknown)}")
    if "ussd_variant" in data and data["ussd_variant"] not in VARIANTS:
        raise json_error(web.HTTPBadRequest, f"ussd_variant: one of {', '.join(VARIANTS)}")
    for key, value in data.items():
        kind = type(getattr(st.settings, key))
        setattr(st.settings, key, kind(value))
    return web.json_response(dataclasses.asdict(st.settings))


async def reset(request: web.Request) -> web.Response:
    st = request.app[STATE]
    st.counts.clear()
    st.texts.clear()
    st.handsets.reset()
    st.submits = st.throttled = st.drops = 0
    st.events.clear()
    st.refused.clear()
    st.last_mo.clear()
    st.closed_submits.clear()
    return web.json_response({"ok": True})


def control_app(state: SimState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/stats", stats)
    app.router.add_get("/counts", counts)
    app.router.add_get("/messages", messages)
    app.router.add_post("/inject", inject)
    app.router.add_post("/ussd", ussd_hop)
    app.router.add_get("/ussd", ussd_screens)
    app.router.add_post("/ussd/journeys", ussd_journeys)
    app.router.add_post("/raw", raw)
    app.router.add_post("/config", configure)
    app.router.add_post("/reset", reset)
    return app


async def run(settings: SimSettings, record_text: bool = True) -> None:
    """Serve SMPP and the control port until cancelled."""
    state = SimState(settings, record_text=record_text)
    server = await serve(state)
    runner = web.AppRunner(control_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.control_port)
    await site.start()
    smpp_port = server.sockets[0].getsockname()[1]
    control_port = runner.addresses[0][1]
    # One line on stdout that tests and tools read to learn the ports (port 0 = any free).
    print(json.dumps({"smpp_port": smpp_port, "control_port": control_port}), flush=True)
    log.info("SMSC simulator on %s:%d (control %d)", settings.host, smpp_port, control_port)
    started = time.monotonic()
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        await runner.cleanup()
        log.info(
            "simulator stopped after %.0fs, %d submits", time.monotonic() - started, state.submits
        )
