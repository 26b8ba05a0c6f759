"""Ticket statuses as Open311 GeoReport v2 and mySociety's updates extension name them.

One table (`STATUSES`): for every ticket status, the GeoReport status (only `open` or
`closed`) and the mySociety status of an update that leaves the ticket there. A transfer
or a summoned department is an INTERNAL_REFERRAL whatever the status; a merge is a
DUPLICATE. `INBOUND` says what an outside platform's update does to a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.tickets import Action, Status


class Update(StrEnum):
    """mySociety's update statuses (the ones gridbot writes or reads)."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    FIXED = "FIXED"
    CLOSED = "CLOSED"
    REOPEN = "REOPEN"
    DUPLICATE = "DUPLICATE"
    INTERNAL_REFERRAL = "INTERNAL_REFERRAL"
    NOT_COUNCILS_RESPONSIBILITY = "NOT_COUNCILS_RESPONSIBILITY"
    NO_FURTHER_ACTION = "NO_FURTHER_ACTION"
    INVESTIGATING = "INVESTIGATING"
    ACTION_SCHEDULED = "ACTION_SCHEDULED"


@dataclass(frozen=True, slots=True)
class Open311Status:
    georeport: str
    """'open' or 'closed'."""
    update: Update


STATUSES: dict[Status, Open311Status] = {
    Status.ASSIGNED: Open311Status("open", Update.OPEN),
    Status.CLAIMED: Open311Status("open", Update.IN_PROGRESS),
    Status.REOPENED: Open311Status("open", Update.REOPEN),
    Status.SUMMONED: Open311Status("open", Update.INTERNAL_REFERRAL),
    Status.RETURNED: Open311Status("open", Update.INVESTIGATING),
    # Resolved: the work is done and the reporter is asked to confirm (it may reopen).
    Status.RESOLVED: Open311Status("closed", Update.FIXED),
    Status.CLOSED: Open311Status("closed", Update.CLOSED),
    # 退回 as not valid, confirmed by the level above: nothing to do. A report that is not
    # ours is passed on (PASS_ON, an INTERNAL_REFERRAL), never closed as rejected.
    Status.REJECTED: Open311Status("closed", Update.NO_FURTHER_ACTION),
    Status.MERGED: Open311Status("closed", Update.DUPLICATE),
    # Taken back by its rider minutes after filing (取消 <号>).
    Status.WITHDRAWN: Open311Status("closed", Update.CLOSED),
}

ACTION_UPDATES: dict[Action, Update] = {
    Action.TRANSFER: Update.INTERNAL_REFERRAL,
    Action.SUMMON: Update.INTERNAL_REFERRAL,
    Action.PASS_ON: Update.INTERNAL_REFERRAL,
    Action.MERGE: Update.DUPLICATE,
}
"""Actions whose update status says more than the status they leave the ticket in."""


def georeport_status(status: Status | str) -> str:
    return STATUSES[Status(status)].georeport


def update_status(status: Status | str, action: Action | str | None = None) -> Update:
    """The mySociety status of an event that left a ticket in `status` by `action`."""
    if action is not None and action in ACTION_UPDATES:
        return ACTION_UPDATES[Action(action)]
    return STATUSES[Status(status)].update


@dataclass(frozen=True, slots=True)
class Inbound:
    """What an outside platform's update does: the action on an open ticket, the action on
    a resolved one (None: refused), and the words put before its description."""

    on_open: Action | None
    on_resolved: Action | None
    label: str


INBOUND: dict[Update, Inbound] = {
    Update.OPEN: Inbound(Action.NOTE, None, ""),
    Update.IN_PROGRESS: Inbound(Action.NOTE, None, ""),
    Update.INVESTIGATING: Inbound(Action.NOTE, None, "核查中"),
    Update.ACTION_SCHEDULED: Inbound(Action.NOTE, None, "已安排处置"),
    Update.INTERNAL_REFERRAL: Inbound(Action.NOTE, None, "已转相关部门"),
    Update.FIXED: Inbound(Action.RESOLVE, None, ""),
    Update.CLOSED: Inbound(Action.RESOLVE, Action.CONFIRM, ""),
    Update.DUPLICATE: Inbound(Action.RESOLVE, Action.CONFIRM, "重复上报"),
    Update.NOT_COUNCILS_RESPONSIBILITY: Inbound(Action.RESOLVE, Action.CONFIRM, "非本单位职责"),
    Update.NO_FURTHER_ACTION: Inbound(Action.RESOLVE, Action.CONFIRM, "无需进一步处理"),
    Update.REOPEN: Inbound(None, Action.REOPEN, ""),
}
"""Closing statuses resolve an open ticket (the reporter is asked to confirm, as after a
worker's 办结) and close a resolved one; REOPEN reopens a resolved ticket."""
