"""Races between staff over one ticket, on real concurrent connections (SQLite file and
PostgreSQL): the ticket row is locked, so exactly one wins and the other is told why."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.services.handling import tickets as ticket_service
from tests.chatkit import FENGYUAN_1, Chat

WORKER, LEAD = "worker-1", "lead-1"  # 张伟 holds the grid; lead-1 covers its community


def _report(chat: Chat, rider: str) -> int:
    chat.text(rider, "路口积水很深")
    chat.location(rider, FENGYUAN_1, "枫林路口")
    return max(t.id for t in chat.tickets())


def _race(chat: Chat, *messages: tuple[str, str]) -> list[str]:
    """Send the messages at the same moment from separate threads (separate connections)."""
    barrier = threading.Barrier(len(messages))

    def send(message):
        barrier.wait()
        return chat.text(*message)

    with ThreadPoolExecutor(len(messages)) as pool:
        return list(pool.map(send, messages))


@pytest.mark.parametrize("round_", range(5))
def test_two_staff_claiming_at_once_one_wins_the_other_hears_who(demo_sessions, clock, round_):
    chat = Chat(demo_sessions, clock)
    number = _report(chat, f"rider-{round_}")
    replies = _race(chat, (WORKER, f"认领 {number}"), (LEAD, f"认领 {number}"))
    won = [r for r in replies if r.startswith(f"已认领工单 #{number}")]
    lost = [r for r in replies if "已由" in r and "认领" in r]
    assert (len(won), len(lost)) == (1, 1), replies
    ticket = chat.ticket(number)
    winner = ticket.assignee.name
    assert lost == [f"工单 #{number} 已由{winner}认领。"]
    assert [e.action for e in ticket.events].count("claim") == 1
    assert len([n for n in chat.notices_to(f"rider-{round_}") if "认领" in n]) == 1


def test_a_claim_that_read_the_ticket_before_a_rival_committed_still_loses(
    demo_sessions, clock, monkeypatch
):
    """'认领' without a number reads the newest ticket first, then locks it: the lock must
    see the rival's committed claim, not the copy read a moment earlier."""
    chat = Chat(demo_sessions, clock)
    number = _report(chat, "rider-9")
    read_first = threading.Event()
    original = ticket_service.newest_claimable

    def slow_newest(session, staff):
        ticket = original(session, staff)
        read_first.set()
        time.sleep(0.5)  # the rival claims and commits meanwhile
        return ticket

    monkeypatch.setattr(ticket_service, "newest_claimable", slow_newest)
    with ThreadPoolExecutor(2) as pool:
        mine = pool.submit(chat.text, WORKER, "认领")
        read_first.wait(5)
        rival = pool.submit(chat.text, LEAD, f"认领 {number}")
        replies = mine.result(), rival.result()
    # PostgreSQL lets the rival commit first; SQLite's writer lock makes it wait for us.
    won = [r for r in replies if r.startswith(f"已认领工单 #{number}")]
    ticket = chat.ticket(number)
    assert len(won) == 1, replies
    assert f"工单 #{number} 已由{ticket.assignee.name}认领。" in replies
    assert [e.action for e in ticket.events].count("claim") == 1


@pytest.mark.parametrize("round_", range(5))
def test_resolve_racing_a_transfer_ends_one_way_only(demo_sessions, clock, round_):
    chat = Chat(demo_sessions, clock)
    rider = f"rider-{round_}"
    number = _report(chat, rider)
    assert chat.text(WORKER, f"认领 {number}").startswith("已认领")
    resolved, transferred = _race(
        chat, (WORKER, f"办结 {number} 积水已排除"), (LEAD, f"转派 {number} 31019900100102")
    )
    ticket = chat.ticket(number)
    actions = [e.action for e in ticket.events]
    rider_notices = chat.notices_to(rider)
    if resolved.startswith(f"工单 #{number} 已办结"):
        assert "不能执行此操作" in transferred, transferred
        assert (ticket.status, ticket.grid.code) == ("resolved", "31019900100101")
        assert "transfer" not in actions
        assert not any("转派" in n for n in rider_notices)
    else:
        assert transferred.startswith(f"工单 #{number} 已转派"), (resolved, transferred)
        assert "无权操作" in resolved or "不能执行此操作" in resolved, resolved
        assert (ticket.status, ticket.grid.code) == ("assigned", "31019900100102")
        assert "resolve" not in actions
        assert not any("办结" in n for n in rider_notices)
