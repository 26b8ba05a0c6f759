"""Builds the application: settings -> database -> channel -> chat engine -> routers."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from app.chat import ChatEngine
from app.db import make_engine, make_sessionmaker
from app.scheduler import Jobs
from app.settings import Settings, get_settings
from app.web import health, sandbox, wechat
from app.web.inflight import InFlight
from bot.api import WeChatAPI
from bot.channels import SandboxChannel, WeChatChannel
from bot.codec import WeChatCodec
from bot.outbox_sender import OutboxSender
from bot.security import ReplayGuard


def create_app(settings: Settings | None = None, *, run_jobs: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    sandbox_channel = SandboxChannel(sessions) if settings.channel == "sandbox" else None
    api = None
    if sandbox_channel is None:
        api = WeChatAPI(
            base_url=settings.wechat_api_base,
            app_id=settings.wechat_app_id,
            app_secret=settings.wechat_app_secret,
        )
    channel = sandbox_channel or WeChatChannel(api)
    sender = OutboxSender(sessions, channel, max_attempts=settings.outbox_max_attempts)
    jobs = Jobs(sender, outbox_poll_seconds=settings.outbox_poll_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_jobs:
            jobs.start()
        try:
            yield
        finally:
            jobs.shutdown()
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
    app.state.chat = ChatEngine(settings=settings, sessions=sessions, on_outbox=jobs.wake_outbox)
    # Threads handling messages at once. SQLite has one writer: more threads only queue in
    # its busy handler, whose growing sleeps made the slowest answers take seconds.
    app.state.chat_limiter = anyio.CapacityLimiter(
        1 if engine.dialect.name == "sqlite" else engine.pool.size()
    )
    app.state.in_flight = InFlight()
    app.include_router(wechat.router)
    app.include_router(sandbox.router)
    app.include_router(health.router)
    return app
