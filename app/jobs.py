"""The scheduled jobs by name: what `gridbot jobs list/run` shows and the scheduler runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.inbox.deliveries import FORGET_JOB, PRUNE_EVERY_SECONDS, forget
from app.services.handling.ticket_card import NoticeSettings
from app.services.policies import PolicySource, with_policy
from app.services.supervision.escalation import BATCH, SweepResult, auto_close_due, escalate_due
from app.settings import Settings
from models import utcnow


@dataclass
class JobContext:
    sessions: sessionmaker[Session]
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    sender: object | None = field(default=None)
    """An OutboxSender, for the outbox job."""
    policy: PolicySource | None = None
    """The escalation policy the jobs apply; default: the one the settings name."""

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = PolicySource(self.settings.policy_file)
        self.sessions = with_policy(self.sessions, self.policy)


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    every: Callable[[Settings], float]
    run: Callable[[JobContext], object]
    leader_only: bool = True
    """Sweeps run in one process (the leader); the outbox drain may run in every process."""
    scheduled_here: bool = True
    """False for jobs the app schedules with its own wiring (see app/web/main.py)."""


def sweep(ctx: JobContext, step: Callable[..., SweepResult]) -> SweepResult:
    """Run a sweep to the end, one transaction per batch."""
    total = SweepResult()
    while True:
        with unit_of_work(ctx.sessions) as session:
            done = step(session, now=ctx.clock(), limit=BATCH)
        for key in ("tickets", "reminders", "escalations", "closed"):
            setattr(total, key, getattr(total, key) + getattr(done, key))
        if done.tickets < BATCH:
            return total


def run_escalation(ctx: JobContext) -> SweepResult:
    wording = NoticeSettings.from_settings(ctx.settings)
    return sweep(ctx, partial(escalate_due, notice_settings=wording))


def run_auto_close(ctx: JobContext) -> SweepResult:
    wording = NoticeSettings.from_settings(ctx.settings)
    return sweep(ctx, partial(auto_close_due, notice_settings=wording))


def run_hazard_alerts(ctx: JobContext) -> dict[str, int]:
    """Send the hazard alerts and all-clears ticket changes owe, each in its own
    transaction (a crash loses none: the owed row goes with the sending)."""
    from app.services.riders.hazard_alerts import send_owed

    done = 0
    while True:
        with unit_of_work(ctx.sessions) as session:
            if not send_owed(session, now=ctx.clock()):
                return {"handled": done}
        done += 1


def run_digest(ctx: JobContext):
    from app.services.digest import digest_delivery

    return digest_delivery.daily_sweep(ctx.sessions, ctx.settings, points=ctx.policy().points)


def _photo_jobs(ctx: JobContext):
    from app.photo_jobs import photo_jobs
    from app.services.directory.grids import GridLocator
    from app.services.intake.reports import IntakeRules

    _, api = make_channel(ctx.settings, ctx.sessions)
    intake = IntakeRules.from_settings(ctx.settings, GridLocator(ctx.settings.nearest_grid_max_m))
    return photo_jobs(ctx.settings, ctx.sessions, api, intake)


def run_photos(ctx: JobContext):
    return _photo_jobs(ctx).pipeline.run()


def run_more_reports(ctx: JobContext):
    return _photo_jobs(ctx).more_reports()


LATE_ANSWERS_JOB = "late_answers"
LATE_ANSWERS_EVERY_SECONDS = 30.0


def run_late_answers(ctx: JobContext):
    """Handle and answer parked messages whose process died before answering them."""
    from app.bootstrap import chat_engine

    chat = chat_engine(ctx.settings, ctx.sessions, clock=ctx.clock)
    answered = chat.answer_stale(timedelta(seconds=ctx.settings.late_recovery_seconds))
    return {"answered": answered}


def run_forget_deliveries(ctx: JobContext) -> dict[str, int]:
    """Forget the webhook deliveries out of the signature window (most are recorded by
    their messages' transactions, which do not prune)."""
    before = int(ctx.clock().timestamp()) - ctx.settings.signature_window_seconds - 1
    with unit_of_work(ctx.sessions) as session:
        return {"forgotten": forget(session, before)}


def run_outbox(ctx: JobContext):
    sender = ctx.sender or make_sender(ctx.settings, ctx.sessions)
    return sender.drain()


def make_channel(settings: Settings, sessions: sessionmaker[Session]):
    """(channel, api): the sandbox stores what it would send; WeChat sends through the API."""
    from bot.api import WeChatAPI
    from bot.channels import SandboxChannel, WeChatChannel

    if settings.channel == "sandbox":
        sandbox = SandboxChannel(sessions, settings.data_dir / "sandbox")
        return _with_webhooks(settings, sessions, _with_wecom(settings, sessions, sandbox)), None
    api = WeChatAPI(
        base_url=settings.wechat_api_base,
        app_id=settings.wechat_app_id,
        app_secret=settings.wechat_app_secret,
    )
    channel = _with_wecom(settings, sessions, WeChatChannel(api))
    return _with_webhooks(settings, sessions, channel), api


def _with_webhooks(settings: Settings, sessions: sessionmaker[Session], channel):
    """`channel`, with deliveries to "webhook:<id>" POSTed to the hook, signed (the
    sandbox too: a webhook is the operator's own URL, not WeChat)."""
    from app.delivery.webhook_channel import WebhookRouting

    return WebhookRouting(
        channel,
        sessions,
        allow_private=settings.webhook_allow_private,
        timeout_seconds=settings.webhook_timeout_seconds,
    )


def _with_wecom(settings: Settings, sessions: sessionmaker[Session], channel):
    """`channel`, with notices to "wecom:<userid>" sent by the WeCom app when one is set."""
    if not settings.wecom_corp_id:
        return channel
    from app.services.wecom_cards import CardMaker
    from bot.wecom_api import WeComAPI
    from bot.wecom_channel import WeComRouting

    wecom = WeComAPI(
        corp_id=settings.wecom_corp_id,
        secret=settings.wecom_secret,
        agent_id=settings.wecom_agent_id,
        base_url=settings.wecom_api_base,
    )
    return WeComRouting(channel, wecom, card_for=CardMaker(sessions, settings.timezone))


def make_sender(settings: Settings, sessions: sessionmaker[Session], channel=None):
    """The outbox sender as the settings configure it (the app's and `jobs run outbox`)."""
    from app.delivery.outbox_sender import OutboxSender

    if channel is None:
        channel, _ = make_channel(settings, sessions)
    return OutboxSender(
        sessions,
        channel,
        max_attempts=settings.outbox_max_attempts,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
        rate_limit_pause=timedelta(seconds=settings.rate_limit_pause_seconds),
        template_ids=settings.template_ids,
    )


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "outbox",
        "send the notices the outbox owes (retries, backoff)",
        lambda s: s.outbox_poll_seconds,
        run_outbox,
        leader_only=False,
    ),
    JobSpec(
        "escalation",
        "remind holders of missed deadlines and escalate up the ladder",
        lambda s: s.escalation_sweep_seconds,
        run_escalation,
    ),
    JobSpec(
        "auto_close",
        "close resolved tickets the rider did not confirm in time",
        lambda s: s.auto_close_sweep_seconds,
        run_auto_close,
    ),
    JobSpec(
        "hazard_alerts",
        "alert riders near a blocked road, and tell them when it is open again",
        lambda s: s.hazard_alert_sweep_seconds,
        run_hazard_alerts,
    ),
    JobSpec(
        "digest",
        "send each supervisor's daily digest once, after the digest time",
        lambda s: s.digest_poll_seconds,
        run_digest,
    ),
    JobSpec(
        FORGET_JOB,
        "forget the webhook deliveries (replay protection) out of the signature window",
        lambda s: PRUNE_EVERY_SECONDS,
        run_forget_deliveries,
    ),
    # The app wires these itself (they share its chat rules); listed for `jobs run`.
    JobSpec(
        "photos",
        "download, check, strip and store photos; match duplicates by photo",
        lambda s: s.photo_poll_seconds,
        run_photos,
        scheduled_here=False,
    ),
    JobSpec(
        "more_reports",
        "tell workers about reports merged into their tickets, at most once per interval",
        lambda s: 60.0,
        run_more_reports,
        scheduled_here=False,
    ),
    JobSpec(
        LATE_ANSWERS_JOB,
        "answer messages acknowledged early whose process died before answering them",
        lambda s: LATE_ANSWERS_EVERY_SECONDS,
        run_late_answers,
        scheduled_here=False,
    ),
)


def job(name: str) -> JobSpec | None:
    return next((j for j in JOBS if j.name == name.replace("-", "_")), None)


def leader_sweeps(ctx: JobContext) -> list:
    """The leader-only jobs as scheduler sweeps bound to `ctx`."""
    from app.scheduler import Sweep

    return [
        Sweep(spec.name, spec.every(ctx.settings), lambda spec=spec: spec.run(ctx))
        for spec in JOBS
        if spec.leader_only and spec.scheduled_here
    ]
