"""Builds the application: settings -> database -> channel -> chat engine -> routers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import anyio
from fastapi import FastAPI

from app.bootstrap import Database, build, chat_engine, configure, intake_rules
from app.db import DatabaseTimeouts
from app.inbox.backlog import Backlog
from app.inbox.chat import ChatEngine
from app.inbox.deliveries import SeenDeliveries
from app.inbox.inflight import InFlight
from app.inbox.loop_lag import LoopLag
from app.inbox.parking import Parking
from app.inbox.pulse import Pulse
from app.inbox.spool import Spool, replay
from app.inbox.threads import HandlerThreads
from app.jobs import (
    LATE_ANSWERS_EVERY_SECONDS,
    LATE_ANSWERS_JOB,
    JobContext,
    leader_sweeps,
    make_channel,
    make_sender,
)
from app.leader import Leader
from app.photo_jobs import MORE_REPORTS_JOB, PHOTOS_JOB, photo_jobs
from app.scheduler import Jobs, Sweep
from app.services.policies import PolicySource
from app.settings import Settings
from app.web import console, health, media, open311, sandbox, wechat, wecom
from app.web.access_log import hide_query_strings
from bot.codec import WeChatCodec
from bot.security import ReplayGuard
from bot.wecom import WeComCodec


def handler_threads(settings: Settings, dialect: str) -> int:
    """Threads handling messages at once. SQLite has one writer: more threads only queue in
    its busy handler, whose growing sleeps made the slowest answers take seconds. On
    PostgreSQL two overlap one's database waits with the other's work; more would only
    share the GIL with the event loop, which must stay free to acknowledge messages."""
    if settings.handler_threads > 0:
        return settings.handler_threads
    return 1 if dialect == "sqlite" else 2


log = logging.getLogger(__name__)

PLAINTEXT_WARNING = (
    "PLAINTEXT MODE: GRIDBOT_WECHAT_AES_KEY is empty, so WeChat's signature does not cover "
    "the message body. Anyone who sees one request's query string can post a forged "
    "message under it. Use safe mode (set the EncodingAESKey) in production."
)


def create_app(
    settings: Settings | None = None,
    *,
    run_jobs: bool = True,
    policy: PolicySource | None = None,
) -> FastAPI:
    """The web app for `settings` and `policy` (by default the one the settings name);
    without settings, from the environment, as each `serve --workers N` process does."""
    settings = settings or configure(Database.NONE)[0]
    runtime = build(settings, policy, timeouts=DatabaseTimeouts.of(settings))
    engine, sessions = runtime.engine, runtime.sessions
    hide_query_strings()
    if settings.channel == "wechat" and not settings.wechat_aes_key:
        log.warning(PLAINTEXT_WARNING)
    channel, api = make_channel(settings, sessions)
    sandbox_channel = channel if api is None else None
    sender = make_sender(settings, sessions, channel)
    jobs = Jobs(
        sender,
        outbox_poll_seconds=settings.outbox_poll_seconds,
        sweeps=leader_sweeps(
            JobContext(sessions=sessions, settings=settings, sender=sender, policy=runtime.policy)
        ),
        leader=Leader(settings.database_url),
    )
    rules = intake_rules(settings)
    chat = chat_engine(
        settings, sessions, rules=rules, on_outbox=jobs.wake_outbox, policy=runtime.policy
    )
    photos = photo_jobs(settings, sessions, api, rules)
    jobs.add_sweep(Sweep(PHOTOS_JOB, settings.photo_poll_seconds, photos.pipeline.run))
    jobs.add_sweep(Sweep(MORE_REPORTS_JOB, 60, photos.more_reports))
    late_after = timedelta(seconds=settings.late_recovery_seconds)
    jobs.add_sweep(
        Sweep(LATE_ANSWERS_JOB, LATE_ANSWERS_EVERY_SECONDS, lambda: chat.answer_stale(late_after))
    )
    seen_deliveries = SeenDeliveries(
        sessions,
        window_seconds=settings.signature_window_seconds,
        limiter=anyio.CapacityLimiter(1),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Handler threads are CPU-bound Python; at the default 5 ms a thread coming back
        # from the database (parking, the event loop itself) waits up to 5 ms for the GIL
        # at every step, which under load made acknowledging a message take seconds.
        sys.setswitchinterval(0.001)
        if run_jobs:
            jobs.start()
        replaying = asyncio.ensure_future(_replay_spool(app.state.spool, chat))
        watching = asyncio.ensure_future(app.state.loop_lag.watch())
        try:
            yield
        finally:
            for task in (replaying, watching):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            jobs.shutdown()
            photos.source.close()
            if api is not None:
                api.close()
            engine.dispose()

    docs = settings.api_docs
    app = FastAPI(
        title="gridbot",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.policy = runtime.policy
    app.state.sessions = sessions
    app.state.sender = sender
    app.state.sandbox = sandbox_channel
    app.state.codec = WeChatCodec(
        settings.wechat_token, settings.wechat_app_id, settings.wechat_aes_key
    )
    app.state.wecom_codec = (
        WeComCodec(
            corp_id=settings.wecom_corp_id,
            agent_id=settings.wecom_agent_id,
            token=settings.wecom_token,
            aes_key=settings.wecom_aes_key,
        )
        if settings.wecom_corp_id
        else None
    )
    app.state.replay_guard = ReplayGuard(window_seconds=settings.signature_window_seconds)
    app.state.seen_deliveries = seen_deliveries
    app.state.chat = chat
    app.state.intake_rules = rules
    app.state.spool = Spool(settings.data_dir / "spool")
    app.state.spool_limiter = anyio.CapacityLimiter(2)
    app.state.photos = photos
    app.state.media_store = photos.store
    app.state.media_links = rules.links
    app.state.handler_threads = HandlerThreads(handler_threads(settings, engine.dialect.name))
    app.state.loop_lag = LoopLag()
    app.state.backlog = Backlog(app.state.handler_threads, yield_to=app.state.loop_lag)
    # The pulse beats in the threads that hear the database: a loop that lags behind them
    # must not make a busy database look silent.
    app.state.pulse = pulse = Pulse()
    # owe_late: a parked message's late answer is owed in its handler's own transaction.
    handle = pulse.beating(partial(chat.handle, owe_late=True))
    app.state.timed_handle = app.state.backlog.timed(handle)
    # Parking must not queue behind the handlers it stands in for: threads of its own.
    app.state.parking = Parking(pulse.beating(chat.park), anyio.CapacityLimiter(2))
    app.state.late_limiter = anyio.CapacityLimiter(1)
    app.state.in_flight = InFlight()
    app.include_router(wechat.router)
    app.include_router(wecom.router)
    app.include_router(media.router)
    app.include_router(sandbox.router)
    app.include_router(health.router)
    console.install(app)
    open311.install(app)
    return app


SPOOL_LOOK_SECONDS = 0.5


async def _replay_spool(spool: Spool, chat: ChatEngine) -> None:
    """Every half second: if messages were kept while the database was down (by this
    process or another on this machine), replay them once it answers again."""
    limiter = anyio.CapacityLimiter(1)
    failing = False
    while True:
        await asyncio.sleep(SPOOL_LOOK_SECONDS)
        if not await anyio.to_thread.run_sync(spool.look, limiter=limiter):
            continue
        try:
            replayed = await anyio.to_thread.run_sync(replay, spool, chat, limiter=limiter)
        except Exception as exc:  # the database is still down: try again in a moment
            if not failing:
                log.warning("spool: cannot replay yet (%s: %s)", type(exc).__name__, exc)
            failing = True
            continue
        failing = False
        if replayed:
            log.info("spool: replayed %d messages kept while the database was down", replayed)
