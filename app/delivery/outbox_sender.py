"""Sends what the outbox owes, off the request path, with retries and backoff.

Rows are leased (claimed for a while) in one short transaction with
`FOR UPDATE SKIP LOCKED`, sent outside any transaction, then marked in another: a slow
WeChat never holds a database lock, several processes can drain at once without
sending a row twice, and a crash mid-send only means the lease runs out and the row is
tried again (at-least-once: see README, "Delivery guarantees").

The notices of one lease that went out are marked sent together, in one transaction after
the lease's sends (or once half the lease has passed, whichever is first), not one
transaction each: under a storm of late answers that was a third of the sender's
transactions. The price is a wider at-least-once window: a crash after a send and before
that mark resends every notice the lease had sent so far (up to `batch`), where it used to
resend the one in flight. Once half the lease has passed the marks go before the next
send, so a slow WeChat does not leave sent rows unmarked when the lease runs out (and
another sender leases them again).

WeChat's failures are told apart by errcode (the sets are bot.channels'):
- 45009 / 45011 / 45033 (rate limits): the route the notice went by pauses (the official
  account, or the WeCom app for "wecom:" addresses: one platform's limit never holds up
  the other), recorded in the database so every process honours it; the attempts of that
  route's unsent rows are given back.
- 45015 / 45047 (customer-service window closed / quota used up): a template message
  if one is configured for the notice's kind, else the row is *held* and goes out
  inside the user's next passive reply (app.services.outbox.deliver_held).
- anything else: exponential backoff with jitter, dead after `max_attempts`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, not_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.domain.delivery import OutboxStatus
from app.domain.retry import backoff
from bot.channels import (
    RATE_LIMITED,
    UNDELIVERABLE,
    WINDOW_CLOSED,
    Channel,
    errcode_of,
    template_fields,
)
from bot.metrics import METRICS
from models import WECOM_PREFIX, ChannelPause, OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Notice:
    id: int
    openid: str
    kind: str
    text: str
    ticket_id: int | None
    attempt: int
    """The row's attempt count when this lease took it: the lease's fencing token."""
    image: bytes | None = None
    """A PNG to send as an image message instead of the text (the digest chart)."""


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    paused: bool = False


_OUTBOX = OutboxMessage.__table__
MARK_SENT = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("outbox_ids", expanding=True)),
        _OUTBOX.c.status != OutboxStatus.SENT.value,
    )
    .values(
        status=OutboxStatus.SENT.value,
        sent_at=bindparam("now"),
        delivered_via=bindparam("via"),
        last_error="",
    )
    .returning(_OUTBOX.c.id)
)
"""One statement marks notices sent; one not returned was sent first by another lease."""


class OutboxSender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channel: Channel,
        *,
        max_attempts: int = 8,
        batch: int = 50,
        clock: Callable[[], datetime] = utcnow,
        lease: timedelta = LEASE,
        rate_limit_pause: timedelta = timedelta(seconds=60),
        template_ids: Mapping[str, str] | None = None,
        backoff_unit: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.max_attempts = max_attempts
        self.batch = batch
        self.clock = clock
        self.lease = lease
        self.rate_limit_pause = rate_limit_pause
        self.template_ids = dict(template_ids or {})
        self.backoff_unit = backoff_unit

    @property
    def channel_name(self) -> str:
        return getattr(self.channel, "name", "default")

    def route_of(self, openid: str) -> str:
        """The name a rate limit pauses for a notice to `openid`: the channel's, or "wecom"
        for a WeCom address when the channel sends those through the WeCom app."""
        route_of = getattr(self.channel, "route_of", None)
        return route_of(openid) if route_of is not None else self.channel_name

    def drain(self) -> DrainResult:
        """Send everything due now; returns what happened."""
        result = DrainResult()
        more = True
        while more and (leased := self._lease()):
            # A short lease took all that was due: no empty lease to find that out. What
            # is enqueued meanwhile wakes the sender again.
            more = len(leased) == self.batch
            sent: list[Notice] = []  # sent, not yet marked (see the module's docstring)
            try:
                self._send_lease(leased, sent, result)
            finally:
                self._sent(sent, "custom")
        return result

    def _send_lease(self, leased: list[Notice], sent: list[Notice], result: DrainResult) -> None:
        mark_by = self.clock() + self.lease / 2
        stopped: set[str] = set()  # routes rate-limited during this lease
        for position, notice in enumerate(leased):
            route = self.route_of(notice.openid)
            if route in stopped:
                continue  # its attempt was given back when the route paused
            if sent and self.clock() >= mark_by:  # a slow WeChat: mark before the lease ends
                self._sent(sent, "custom")
                sent.clear()
            try:
                if notice.image is not None:
                    self.channel.send_image(notice.openid, notice.image, outbox_id=notice.id)
                else:
                    self.channel.send_text(notice.openid, notice.text, outbox_id=notice.id)
            except Exception as exc:
                code = errcode_of(exc)
                if code in RATE_LIMITED:
                    unsent = [n for n in leased[position:] if self.route_of(n.openid) == route]
                    self._pause(route, exc, code, unsent)
                    stopped.add(route)
                    result.paused = True
                    continue
                if code in WINDOW_CLOSED:
                    self._fall_back(notice, exc, code, result)
                    continue
                self._record_failure(notice, exc, code, result)
            else:
                sent.append(notice)
                result.sent += 1

    # -- transactions ------------------------------------------------------------------------

    def paused_until(self, session: Session, route: str | None = None) -> datetime | None:
        """Until when `route` (default: the channel's own) is paused; None if it is not."""
        pause = session.get(ChannelPause, route or self.channel_name)
        if pause is not None and pause.paused_until > self.clock():
            return pause.paused_until
        return None

    def _lease(self) -> list[Notice]:
        now = self.clock()
        with self.sessions() as session, session.begin():
            query = select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            on_wecom = OutboxMessage.to_openid.startswith(WECOM_PREFIX, autoescape=True)
            wecom_route = self.route_of(WECOM_PREFIX)
            if self.paused_until(session) is not None:
                if wecom_route == self.channel_name:
                    return []
                query = query.where(on_wecom)
            if wecom_route != self.channel_name and self.paused_until(session, wecom_route):
                query = query.where(not_(on_wecom))
            rows = session.scalars(
                query.order_by(OutboxMessage.id).limit(self.batch).with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + self.lease
            return [
                Notice(r.id, r.to_openid, r.kind, r.text, r.ticket_id, r.attempts, r.image)
                for r in rows
            ]

    def _mine(self, session: Session, notice: Notice) -> OutboxMessage | None:
        """The row, locked, if this lease still holds it: pending and not leased again since.

        A lease can run out while a slow send is under way; another sender then leases the
        row again. The late result of the first lease must not undo what the second did.
        """
        row = session.get(OutboxMessage, notice.id, with_for_update=True)
        if row is None or row.status != OutboxStatus.PENDING or row.attempts != notice.attempt:
            log.warning("outbox %s: lease superseded, result not recorded", notice.id)
            return None
        return row

    def _sent(self, notices: list[Notice], via: str) -> None:
        """Mark `notices`, sent by `via`, in one transaction."""
        if not notices:
            return
        ids = [n.id for n in notices]
        with self.sessions() as session, session.begin():
            marked = set(
                session.scalars(MARK_SENT, {"outbox_ids": ids, "now": self.clock(), "via": via})
            )
        for outbox_id in ids:
            if outbox_id not in marked:
                # Another lease delivered it too: the at-least-once window, made visible.
                log.warning("outbox %s delivered twice (lease ran out mid-send)", outbox_id)
                METRICS.inc("gridbot_outbox_duplicate_sends_total")
        if marked:
            METRICS.inc("gridbot_outbox_sent_total", len(marked), via=via)

    def _fall_back(self, notice: Notice, exc: Exception, code: int, result: DrainResult) -> None:
        template_id = self.template_ids.get(notice.kind)
        if template_id:
            try:
                self.channel.send_template(
                    notice.openid,
                    template_id,
                    template_fields(notice.text, notice.ticket_id),
                    outbox_id=notice.id,
                )
            except Exception as template_exc:
                self._record_failure(notice, template_exc, errcode_of(template_exc), result)
            else:
                self._sent([notice], "template")
                result.sent += 1
            return
        with self.sessions() as session, session.begin():
            row = self._mine(session, notice)
            if row is None:
                return
            row.status = OutboxStatus.HELD
            row.attempts -= 1  # not the notice's fault; it will go out in a reply
            row.last_errcode = code
            row.last_error = _describe(exc)
        METRICS.inc("gridbot_outbox_held_total", errcode=code)
        result.held += 1

    def _record_failure(self, notice: Notice, exc: Exception, code: int, result) -> None:
        log.warning("outbox %s to %s failed: %s", notice.id, notice.openid, exc)
        METRICS.inc("gridbot_outbox_failed_total", errcode=code)
        with self.sessions() as session, session.begin():
            row = self._mine(session, notice)
            if row is None:
                return
            row.last_error = _describe(exc)
            row.last_errcode = code
            if row.attempts >= self.max_attempts or code in UNDELIVERABLE:
                row.status = OutboxStatus.DEAD
                dead = True
            else:
                row.next_attempt_at = self.clock() + backoff(row.attempts, unit=self.backoff_unit)
                dead = False
        if dead:
            log.error("outbox %s to %s is dead (last errcode %s)", notice.id, notice.openid, code)
            METRICS.inc("gridbot_outbox_dead_total", errcode=code)
            result.dead += 1
        else:
            result.failed += 1

    def _pause(self, route: str, exc: Exception, code: int, unsent: list[Notice]) -> None:
        """Pause `route` for every process and give its unsent rows their attempt back."""
        until = self.clock() + self.rate_limit_pause * random.uniform(1.0, 1.25)
        log.warning("channel %s rate-limited (%s); paused until %s", route, code, until)
        METRICS.inc("gridbot_channel_paused_total", errcode=code)
        for _ in range(3):
            try:
                with self.sessions() as session, session.begin():
                    pause = session.get(ChannelPause, route, with_for_update=True)
                    reason = f"errcode {code}: {_describe(exc)}"[:128]
                    if pause is None:
                        session.add(ChannelPause(channel=route, paused_until=until, reason=reason))
                    elif pause.paused_until < until:
                        pause.paused_until, pause.reason = until, reason
                    for notice in unsent:
                        row = self._mine(session, notice)
                        if row is None:
                            continue
                        row.attempts -= 1
                        row.next_attempt_at = until
                        row.last_errcode, row.last_error = code, _describe(exc)
                return
            except IntegrityError:  # another process inserted the pause first
                continue


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:250]
