"""Builds the application: settings -> database -> channel -> chat engine -> routers."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from app.chat import ChatEngine
from app.db import make_engine, make_sessionmaker
from app.jobs import JobContext, leader_sweeps, make_channel, make_sender
from app.leader import Leader
from app.photo_jobs import MORE_REPORTS_JOB, PHOTOS_JOB, photo_jobs
from app.scheduler import Jobs, Sweep
from app.settings import Settings, get_settings
from app.web import health, media, sandbox, wechat
from app.web.inflight import InFlight
from bot.codec import WeChatCodec
from bot.security import ReplayGuard


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    channel, api = make_channel(settings, sessions)
    sandbox_channel = channel if api is None else None
    sender = make_sender(settings, sessions, channel)
    jobs = Jobs(
        sender,
        outbox_poll_seconds=settings.outbox_poll_seconds,
        sweeps=leader_sweeps(JobContext(sessions=sessions, settings=settings, sender=sender)),
        leader=Leader(settings.database_url),
    )
    chat = ChatEngine(settings=settings, sessions=sessions, on_outbox=jobs.wake_outbox)
    photos = photo_jobs(settings, sessions, api, chat.rules)
    jobs.add_sweep(Sweep(PHOTOS_JOB, settings.photo_poll_seconds, photos.pipeline.run))
    jobs.add_sweep(Sweep(MORE_REPORTS_JOB, 60, photos.more_reports))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_jobs:
            jobs.start()
        try:
            yield
        finally:
            jobs.shutdown()
            photos.source.close()
            if api is not None:
                api.close()
            engine.dispose()

    app = FastAPI(title="gridbot", lifespan=lifespan)
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.sender = sender
    app.state.sandbox = sandbox_channel
    app.state.codec = WeChatCodec(
        settings.wechat_token, settings.wechat_app_id, settings.wechat_aes_key
    )
    app.state.replay_guard = ReplayGuard(window_seconds=settings.signature_window_seconds)
    app.state.chat = chat
    app.state.photos = photos
    app.state.media_store = photos.store
    app.state.media_links = chat.rules.links
    # Threads handling messages at once. SQLite has one writer: more threads only queue in
    # its busy handler, whose growing sleeps made the slowest answers take seconds.
    app.state.chat_limiter = anyio.CapacityLimiter(
        1 if engine.dialect.name == "sqlite" else engine.pool.size()
    )
    app.state.in_flight = InFlight()
    app.include_router(wechat.router)
    app.include_router(media.router)
    app.include_router(sandbox.router)
    app.include_router(health.router)
    return app
