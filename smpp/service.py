"""The SMPP channel inside the server: binds, the outbox, campaigns, MO, receipts, USSD.

The app factory creates one `SmsService(ctx)` in one worker when `[smpp] enabled`
and calls `start()` / `stop()`; `blast run` and `sms-worker` use the same class
without the HTTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as aioredis

from core.aio import cancel_until_done
from core.config import Config
from core.outbox import Outbox
from core.redis_client import lean_for_waits, lean_like
from core.redis_lean import FastRedis
from core.redis_outage import FAILURES, cause
from core.settings import redis_settings, service_settings
from smpp import codec, outbox_trim
from smpp.blaster import CampaignRunner
from smpp.budget import Budgets
from smpp.campaign_store import CampaignStore
from smpp.inbound import InboundHandler
from smpp.keys import SmsKeys
from smpp.mt import MtBuilder
from smpp.outbox_sender import OutboxSender
from smpp.pool import SmppPool
from smpp.recipients import RecipientSource
from smpp.settings import (
    BindSettings,
    blast_settings,
    smpp_password,
    smpp_settings,
    sms_settings,
)
from smpp.ussd import UssdEdge

log = logging.getLogger(__name__)

CAMPAIGN_POLL_SECONDS = 2.0


class SmsService:
    """``engine`` answers two-way SMS and USSD hops (``dialogue.engine.Engine``; None: not
    answered)."""

    def __init__(
        self,
        config: Config,
        redis: aioredis.Redis,
        outbox: Outbox,
        registry: RecipientSource,
        engine: Any,
        *,
        lean: FastRedis | None = None,
        run_campaigns: bool = True,
        run_outbox: bool = True,
    ) -> None:
        self.smpp = smpp_settings(config)
        self.sms = sms_settings(config)
        self.blast = blast_settings(config)
        self.utc_offset = service_settings(config).utc_offset_hours
        keys = SmsKeys(redis_settings(config).key_prefix)
        self.registry = registry
        # The receipts and the shared budget use the process's lean client, and so do the
        # campaigns unless [redis] wait_replicas is on: a blast's flush then WAITs for
        # replicas, holding its connection meanwhile, so the campaigns get one of their
        # own and the hops and receipts sharing the process's connection never queue
        # behind a WAIT.
        self._own_lean = lean is None
        self.lean = lean or lean_like(redis)
        self.blast_lean = lean_for_waits(self.lean)
        self.store = CampaignStore(redis, keys)
        self.inbound = InboundHandler(
            redis, self.lean, keys, self.smpp, self.sms, engine, self.store, outbox
        )
        budgets = Budgets(self.lean, keys)
        self.pool = SmppPool(self.smpp.binds(smpp_password(config)), self.on_deliver, budgets)
        self.ussd = UssdEdge(engine, self.pool, self.smpp.data_coding_default)
        self.mt = MtBuilder(self.smpp)
        self.outbox = OutboxSender(redis, keys, self.pool, self.mt, self.smpp, self.sms, self.blast)
        self.run_campaigns = run_campaigns
        self.run_outbox = run_outbox
        self._tasks: list[asyncio.Task[Any]] = []
        self._runners: dict[str, asyncio.Task[str]] = {}
        self._stop = asyncio.Event()
        self._finisher: asyncio.Task[None] | None = None

    async def on_deliver(self, sm: codec.ShortMessage, bind: BindSettings) -> int:
        """Every deliver_sm: a USSD hop (it carries ussd_service_op or service_type USSD)
        goes to the USSD edge; receipts and incoming SMS to the SMS side."""
        if codec.is_ussd(sm):
            return await self.ussd(sm, bind)
        return await self.inbound(sm)

    def runner(self) -> CampaignRunner:
        return CampaignRunner(
            self.store,
            self.registry,
            self.pool,
            self.mt,
            self.blast,
            lean=self.blast_lean,
            message_id_base=self.smpp.message_id_base,
            utc_offset_hours=self.utc_offset,
        )

    async def start(self) -> None:
        self.pool.start()
        if self.run_outbox:
            self._tasks.append(asyncio.create_task(self._guard("outbox", self.outbox.run)))
            self._finisher = asyncio.create_task(self.outbox.finish_loop())
            trim = outbox_trim.trim_loop(
                self.outbox.redis, self.outbox.keys, self.sms.outbox_group,
                self.sms.outbox_retention_seconds,
            )  # fmt: skip
            self._tasks.append(asyncio.create_task(trim))
        if self.run_campaigns:
            self._tasks.append(asyncio.create_task(self._guard("campaigns", self._watch)))
        log.info("SMS channel started (%d bind(s))", len(self.pool.binds))

    async def _guard(self, what: str, func: Any) -> None:
        """Keep a background loop alive across Redis hiccups."""
        while not self._stop.is_set():
            try:
                await func()
                return
            except asyncio.CancelledError:
                raise
            except FAILURES as exc:  # an outage: one line each time, no traceback
                log.warning("SMS %s loop: %s; restarting in 2s", what, cause(exc))
                await asyncio.sleep(2)
            except Exception:
                log.exception("SMS %s loop failed; restarting in 2s", what)
                await asyncio.sleep(2)

    async def _watch(self) -> None:
        """Start a runner for every campaign in state running (other processes may send it
        too: batches under leases keep each recipient to one sender)."""
        while not self._stop.is_set():
            for name in await self.store.names():
                task = self._runners.get(name)
                if task is not None and not task.done():
                    continue
                camp = await self.store.get(name)
                if camp is not None and camp.state == "running":
                    self._runners[name] = asyncio.create_task(self.runner().run(name, self._stop))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), CAMPAIGN_POLL_SECONDS)

    async def stop(self) -> None:
        self._stop.set()
        runners = [t for t in self._runners.values() if not t.done()]
        if runners:
            await asyncio.wait(runners, timeout=20)
        self.outbox.stopping = True
        await cancel_until_done(*self._tasks)
        await self.outbox.cancel_retries()  # else destroyed pending at the loop's end
        with contextlib.suppress(Exception):  # best effort: a statistic, not a message
            await self.inbound.receipts.settle()
        await self.ussd.close()  # screens waiting to be resubmitted: the bind is going
        await self.pool.stop()  # waits (a few seconds at most) for outstanding answers
        self.inbound.outage.flush()  # the failures counted since the last line
        if self._finisher is not None:
            await cancel_until_done(self._finisher)
            await self.outbox.flush()
        if self._own_lean:
            await self.lean.aclose()
        if self.blast_lean is not self.lean:
            await self.blast_lean.aclose()
        log.info("SMS channel stopped")
