"""Which webhooks are live, read at most once every few seconds per process and database.

Every ticket change asks which hooks it owes a delivery (ticket_events.owe, on the path of
every report and every command); the answer almost never changes, and asking the database
each time was one statement per change. So the live hooks are kept in memory, per
database (engine), for `TTL_SECONDS`:

- a hook added or removed in this process (hooks.add, hooks.remove, the command line and
  the console calling them) is seen by the next change: the session that writes it reads
  the table itself, and the kept list is forgotten when it writes and again when its
  transaction ends (committed or rolled back);
- a hook added or removed by another process (`gridbot webhooks add` while the server
  runs, another server worker) is seen at most `TTL_SECONDS` later. Until then that
  process's ticket changes are not delivered to a hook just added, and may still owe a
  delivery to a hook just removed, which the sender refuses as removed (never POSTed;
  app/delivery/webhook_channel.py).
"""

from __future__ import annotations

import threading
import time
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, SessionTransaction

from models import Webhook

TTL_SECONDS = 5.0
"""How long another process's change of hooks may go unseen here."""

Hooks = tuple[tuple[int, tuple[str, ...]], ...]
"""(hook id, the event names it is subscribed to) for every live hook."""

_WRITTEN = "webhooks_written"
_LISTENING = "webhooks_listening"
_LIVE = select(Webhook.id, Webhook.events).where(Webhook.removed_at.is_(None))

_lock = threading.Lock()
_kept: WeakKeyDictionary[Engine, tuple[float, Hooks]] = WeakKeyDictionary()
_generation = 0
"""Moves on every forget: a read that began before it is not kept (it may miss the write)."""


def live(session: Session) -> Hooks:
    """The live hooks as `session` should see them."""
    if session.info.get(_WRITTEN):  # its own uncommitted changes: never shared
        return _read(session)
    engine = session.get_bind().engine
    now = time.monotonic()
    kept = _kept.get(engine)
    if kept is not None and now - kept[0] < TTL_SECONDS:
        return kept[1]
    generation = _generation
    hooks = _read(session)
    with _lock:
        if generation == _generation:
            _kept[engine] = (now, hooks)
    return hooks


def written(session: Session) -> None:
    """`session` adds, removes or changes a hook: every session of this process sees it
    once it is committed."""
    session.info[_WRITTEN] = True
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_transaction_end", _transaction_ended)
    forget()


def forget() -> None:
    """Read the hooks again at the next change (every database)."""
    global _generation
    with _lock:
        _generation += 1
        _kept.clear()


def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_WRITTEN, False):
        forget()  # committed or rolled back: what was kept meanwhile may be either


def _read(session: Session) -> Hooks:
    return tuple((hook_id, tuple(events.split(","))) for hook_id, events in session.execute(_LIVE))
