"""Who is told of each ticket action, and with which text: the notice table.

Beside the transition table (app/domain/tickets.py): for every action, the audiences that
hear of it, each with the key of the text they get and the outbox kind (which also picks
the template-message fallback). The service resolves audiences to people and owes each
person one notice per change; the actor is never told what they just did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from app.domain.categories import URGENT
from app.domain.tickets import Action


class Audience(StrEnum):
    FOLLOWERS = "followers"
    """The reporter and every rider whose report was merged into the ticket."""
    REPORTER = "reporter"
    """The rider who filed the ticket, alone (what is asked of them is not news for the
    riders who confirmed it)."""
    HOLDER = "holder"
    """Who holds the ticket after the change."""
    WORKER = "worker"
    """Who works the problem: the holder, or for a merged report the holder of the ticket
    it confirms."""
    PREVIOUS_HOLDER = "previous_holder"
    """Who held it before the change, when that is someone else now."""
    LEAD_ABOVE = "lead_above"
    """The nearest lead over the ticket's area who outranks the holder."""
    SUMMONER = "summoner"
    """The lead who summoned (吹哨) the department now working the ticket."""
    SUMMONED = "summoned"
    """Every liaison of the department being summoned."""
    GRID_WORKER = "grid_worker"
    """The worker of the ticket's grid, while a department holds the ticket."""
    LADDER = "ladder"
    """The person the escalation ladder has reached."""


class When(StrEnum):
    """Conditions on a notice, judged by the service from the change."""

    ANNOUNCED = "announced"
    """The report's worker had already heard of it as a new ticket (a merge found later,
    from a photo), and its rider was answered before."""
    SPLIT_OFF = "split_off"
    """The ticket is the report split off (not the ticket it was merged into)."""
    GATHERED = "gathered"
    """A notice told at most once per interval: when the interval has passed, the service
    gathers into it every change since the last one; a sweep tells what it held back."""


@dataclass(frozen=True, slots=True)
class Notice:
    audience: Audience
    text: str
    """The key of the text's renderer."""
    kind: str
    """The outbox kind (names the template used when the chat window is closed)."""
    when: When | None = None


F, H, W, P, L = (
    Audience.FOLLOWERS,
    Audience.HOLDER,
    Audience.WORKER,
    Audience.PREVIOUS_HOLDER,
    Audience.LEAD_ABOVE,
)

NOTICES: dict[Action, tuple[Notice, ...]] = {
    Action.CREATE: (Notice(H, "new_ticket", "ticket_assigned"),),
    # Intake tells of additions at most once per interval (app/services/intake/additions.py):
    # a change that is not told at once is gathered into the notice held in the outbox
    # until the interval has passed.
    Action.ADD_INFO: (Notice(W, "more_info", "ticket_more_info"),),
    Action.REMOVE_INFO: (Notice(W, "info_taken_back", "ticket_more_info"),),
    Action.REQUEST_DETAILS: (
        Notice(Audience.REPORTER, "describe_please", "photo_problem"),
        Notice(W, "photo_unusable", "ticket_photo_unusable"),
    ),
    Action.CLAIM: (Notice(F, "claimed", "ticket_claimed"),),
    Action.NOTE: (Notice(F, "note", "ticket_note"),),
    Action.RESOLVE: (
        Notice(F, "resolved", "ticket_resolved"),
        Notice(Audience.GRID_WORKER, "resolved_by_department", "ticket_resolved"),
        Notice(Audience.SUMMONER, "resolved_by_department", "ticket_resolved"),
    ),
    Action.TRANSFER: (
        Notice(H, "transferred_to_worker", "ticket_assigned"),
        Notice(P, "transferred_away", "ticket_transferred"),
        Notice(F, "transferred", "ticket_transferred"),
    ),
    Action.CONFIRM: (
        Notice(H, "confirmed_for_worker", "ticket_closed"),
        Notice(F, "confirmed_for_rider", "ticket_closed"),
    ),
    Action.REOPEN: (
        Notice(H, "reopened_for_worker", "ticket_reopened"),
        Notice(L, "reopened_for_lead", "ticket_reopened_lead"),
        Notice(F, "reopened_for_rider", "ticket_reopened"),
    ),
    Action.AUTO_CLOSE: (
        Notice(F, "auto_closed_for_rider", "ticket_auto_closed"),
        Notice(H, "auto_closed_for_worker", "ticket_auto_closed"),
    ),
    Action.REMIND: (Notice(H, "reminder", "ticket_reminder"),),
    Action.ESCALATE: (Notice(Audience.LADDER, "escalation", "ticket_escalated"),),
    Action.SUMMON: (
        Notice(Audience.SUMMONED, "summoned_for_department", "ticket_summoned"),
        Notice(P, "summoned_for_holder", "ticket_summoned"),
    ),
    Action.CHECK_IN: (
        Notice(F, "checked_in_for_rider", "ticket_claimed"),
        Notice(Audience.SUMMONER, "checked_in_for_summoner", "ticket_checked_in"),
    ),
    Action.REQUEST_EXTENSION: (Notice(L, "extension_request", "extension_request"),),
    Action.APPROVE_EXTENSION: (Notice(H, "extension_approved", "extension_approved"),),
    Action.REFUSE_EXTENSION: (Notice(H, "extension_refused", "extension_refused"),),
    Action.RETURN: (Notice(L, "return_request", "return_request"),),
    Action.PASS_ON: (
        Notice(L, "pass_on_request", "return_request"),
        Notice(F, "passed_on_for_rider", "ticket_passed_on"),
    ),
    Action.CONFIRM_RETURN: (
        Notice(F, "rejected_for_rider", "ticket_rejected"),
        Notice(H, "return_confirmed", "return_confirmed"),
    ),
    Action.REFUSE_RETURN: (Notice(H, "return_refused", "return_refused"),),
    Action.MERGE: (
        Notice(H, "merged_for_worker", "ticket_merged", When.ANNOUNCED),
        Notice(F, "joined_for_rider", "ticket_joined", When.ANNOUNCED),
    ),
    # The worker hears of joins at most once per interval, all reports since the last
    # notice in one (app/services/intake/duplicates.py), not once per join.
    Action.JOIN: (Notice(H, "more_reports", "ticket_more_reports", When.GATHERED),),
    Action.WITHDRAW: (Notice(H, "withdrawn_for_worker", "ticket_withdrawn"),),
    Action.RESOLUTION_PHOTO: (Notice(F, "resolution_photo", "ticket_resolution_photo"),),
    Action.FLAG_OLD_PHOTO: (Notice(W, "old_photo", "ticket_old_photo"),),
    Action.SPLIT: (
        Notice(H, "split_for_worker", "ticket_assigned", When.SPLIT_OFF),
        Notice(F, "split_for_rider", "ticket_split", When.SPLIT_OFF),
    ),
}


def notices_for(action: Action) -> tuple[Notice, ...]:
    return NOTICES.get(action, ())


# --- what every notice about a ticket shows ------------------------------------------------

URGENT_CATEGORIES = frozenset(c.value for c in URGENT)
"""Problems that endanger people at once (flooding, a fallen tree, a manhole cover, a
safety hazard)."""


def is_urgent(category: str, severe: bool, severity: str) -> bool:
    """Marked 【紧急】: an urgent category, words that make it severe (无法通行, 危险, ...)
    or several riders confirming it."""
    return category in URGENT_CATEGORIES or severe or severity != "normal"


def span(minutes: float) -> str:
    """A duration as people say it: 10 分钟, 2 小时 30 分钟, 3 天 2 小时."""
    minutes = max(1, int(minutes))
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时" + (f" {minutes} 分钟" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} 天" + (f" {hours} 小时" if hours else "")


def clock_time(at: datetime, now: datetime, tz: str | tzinfo) -> str:
    """A local time as people say it, the day only when it is not today: 14:25,
    明天 14:25, 11月23日 14:25."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.date() == today + timedelta(days=1):
        return f"明天 {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def due_phrase(verb: str, due: datetime, now: datetime, tz: str | tzinfo) -> str:
    """请于 14:25 前认领（10 分钟内）; at the deadline 期限已到，请立即认领, past it how late (never
    "已超时 0 分钟")."""
    when = clock_time(due, now, tz)
    left = (due - now).total_seconds() / 60
    if left >= 1:
        return f"请于 {when} 前{verb}（{span(left)}内）"
    if left > -1:
        return f"应于 {when} 前{verb}，期限已到，请立即{verb}"
    return f"应于 {when} 前{verb}，已超时 {span(-left)}"


def map_link(lat_gcj: float, lng_gcj: float, name: str) -> str:
    """A link that opens the point in Amap (its app when installed), GCJ-02 coordinates."""
    query = urlencode(
        {
            "position": f"{lng_gcj:.6f},{lat_gcj:.6f}",
            "name": name,
            "coordinate": "gaode",
            "callnative": 1,
        },
        safe=",",
    )
    return f"https://uri.amap.com/marker?{query}"
