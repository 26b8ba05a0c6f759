"""The ticket's life: one transition table and one pure function that applies it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    SUMMONED = "summoned"
    RETURNED = "returned"
    REJECTED = "rejected"
    MERGED = "merged"
    """A confirmation of another ticket: the same problem, reported again."""
    WITHDRAWN = "withdrawn"
    """The rider took the report back soon after filing (取消 <号>): not a case at all."""

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def rider_label(self) -> str:
        """The status as the rider who reported it should read it: no internal review steps."""
        return RIDER_STATUS_LABELS.get(self, STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


class Action(StrEnum):
    CREATE = "create"
    CLAIM = "claim"
    NOTE = "note"
    RESOLVE = "resolve"
    TRANSFER = "transfer"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    ADD_INFO = "add_info"
    REMOVE_INFO = "remove_info"
    """The rider takes back what they just added (取消)."""
    REQUEST_DETAILS = "request_details"
    """The report's only photo is unusable and it has no words: its rider is asked."""
    # Oversight: the deadline ladder, departments, extensions, send-backs, closure.
    REMIND = "remind"
    ESCALATE = "escalate"
    AUTO_CLOSE = "auto_close"
    SUMMON = "summon"
    CHECK_IN = "check_in"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    RETURN = "return"
    """退回 as not valid: the level above may close it as rejected."""
    PASS_ON = "pass_on"
    """退回 as not ours: the level above transfers it or summons a department."""
    CONFIRM_RETURN = "confirm_return"
    REFUSE_RETURN = "refuse_return"
    MERGE = "merge"
    """This report joins another ticket as a confirmation."""
    JOIN = "join"
    """Another report joined this ticket."""
    SPLIT = "split"
    """A worker separates a wrongly merged report (logged on both tickets)."""
    WITHDRAW = "withdraw"
    """The rider takes back a report just filed (取消 <号>)."""
    RESOLUTION_PHOTO = "resolution_photo"
    """The worker sends the after photo of a ticket they just resolved."""
    FLAG_OLD_PHOTO = "old_photo"
    """A photo of the report turned out to be taken long before it was sent."""
    HAZARD_ALERT = "hazard_alert"
    """Riders seen nearby were told to ride around it (app/services/riders/hazard_alerts.py)."""
    HAZARD_CLEAR = "hazard_clear"
    """The riders alerted were told the road is open again."""


STATUS_LABELS = {
    Status.ASSIGNED: "待认领",
    Status.CLAIMED: "处理中",
    Status.RESOLVED: "已办结待确认",
    Status.CLOSED: "已关闭",
    Status.REOPENED: "已重新打开",
    Status.SUMMONED: "待部门报到",
    Status.RETURNED: "退回待审核",
    Status.REJECTED: "已退回不予受理",
    Status.MERGED: "已合并",
    Status.WITHDRAWN: "已撤回",
}

RIDER_STATUS_LABELS = {
    Status.REOPENED: "重新处理中",
    Status.SUMMONED: "已请相关部门处理",
    Status.RETURNED: "上级协调中",
    Status.REJECTED: "未予受理",
    Status.MERGED: "已并入同一问题的工单",
}
"""Where a rider needs other words than staff: they never see 退回待审核 or 待部门报到."""


def status_label(value: str) -> str:
    """The Chinese name of a stored status; an unknown value (a row written by a newer
    version) is shown as it is rather than failing the page or the listing."""
    try:
        return Status(value).label
    except ValueError:
        return value


OPEN_STATUSES = frozenset(
    {Status.ASSIGNED, Status.CLAIMED, Status.REOPENED, Status.SUMMONED, Status.RETURNED}
)

A, C, RS, CL, RO = (
    Status.ASSIGNED,
    Status.CLAIMED,
    Status.RESOLVED,
    Status.CLOSED,
    Status.REOPENED,
)

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (A, Action.CLAIM): C,
    (RO, Action.CLAIM): C,
    # A progress note means somebody is on it: it claims an unclaimed ticket.
    (A, Action.NOTE): C,
    (C, Action.NOTE): C,
    (RO, Action.NOTE): C,
    (A, Action.RESOLVE): RS,
    (C, Action.RESOLVE): RS,
    (RO, Action.RESOLVE): RS,
    (A, Action.TRANSFER): A,
    (C, Action.TRANSFER): A,
    (RO, Action.TRANSFER): A,
    (RS, Action.CONFIRM): CL,
    (RS, Action.REOPEN): RO,
    (A, Action.ADD_INFO): A,
    (C, Action.ADD_INFO): C,
    (RO, Action.ADD_INFO): RO,
    **{(s, Action.REMOVE_INFO): s for s in (A, C, RO, Status.MERGED)},
    **{(s, Action.REQUEST_DETAILS): s for s in (A, C, RO)},
    # Duplicate reports: only a fresh, unclaimed report is merged into another ticket.
    (A, Action.MERGE): Status.MERGED,
    (Status.MERGED, Action.ADD_INFO): Status.MERGED,
    (Status.MERGED, Action.SPLIT): A,
    (A, Action.JOIN): A,
    (C, Action.JOIN): C,
    (RO, Action.JOIN): RO,
    (A, Action.SPLIT): A,
    (C, Action.SPLIT): C,
    (RO, Action.SPLIT): RO,
    (RS, Action.SPLIT): RS,
}

SU, RT, RJ = Status.SUMMONED, Status.RETURNED, Status.REJECTED

TRANSITIONS.update(
    {
        # The deadline ladder reminds and escalates without changing the status.
        **{(s, Action.REMIND): s for s in (A, C, RO, SU, RT)},
        **{(s, Action.ESCALATE): s for s in (A, C, RO, SU, RT)},
        (SU, Action.ADD_INFO): SU,
        (RT, Action.ADD_INFO): RT,
        (SU, Action.REMOVE_INFO): SU,
        (RT, Action.REMOVE_INFO): RT,
        (SU, Action.REQUEST_DETAILS): SU,
        (RT, Action.REQUEST_DETAILS): RT,
        # Nobody answered the rider's confirmation request in time.
        (RS, Action.AUTO_CLOSE): CL,
        # 吹哨: a department is summoned; its liaison checks in (报到) and works it.
        (A, Action.SUMMON): SU,
        (C, Action.SUMMON): SU,
        (RO, Action.SUMMON): SU,
        (SU, Action.SUMMON): SU,
        (SU, Action.CHECK_IN): C,
        (SU, Action.CLAIM): C,
        (SU, Action.TRANSFER): A,
        # 延期: the holder asks for time, the level above decides.
        **{(s, Action.REQUEST_EXTENSION): s for s in (C, RO)},
        **{(s, Action.APPROVE_EXTENSION): s for s in (C, RO)},
        **{(s, Action.REFUSE_EXTENSION): s for s in (C, RO)},
        # 退回: the holder sends it back, the level above closes it as rejected or returns it.
        (A, Action.RETURN): RT,
        (C, Action.RETURN): RT,
        (RO, Action.RETURN): RT,
        (RT, Action.CONFIRM_RETURN): RJ,
        (RT, Action.REFUSE_RETURN): C,
        **{(s, Action.PASS_ON): RT for s in (A, C, RO)},
        # A ticket sent back as not ours: the level above sends it on, or takes it.
        (RT, Action.TRANSFER): A,
        (RT, Action.SUMMON): SU,
        (RT, Action.CLAIM): C,
        # Duplicates may join, or be split from, a ticket waiting on oversight too.
        **{(s, Action.JOIN): s for s in (SU, RT)},
        **{(s, Action.SPLIT): s for s in (SU, RT)},
        (RS, Action.RESOLUTION_PHOTO): RS,
        # 取消 <号>: only while nobody has started on it (the window is the service's).
        (A, Action.WITHDRAW): Status.WITHDRAWN,
        # The photo pipeline may find an old photo while anyone still works the ticket.
        **{(s, Action.FLAG_OLD_PHOTO): s for s in (A, C, RO, SU, RT, RS, Status.MERGED)},
        # Hazard alerts record on the timeline without changing the status.
        **{(s, Action.HAZARD_ALERT): s for s in (A, C, RO, SU, RT)},
        # The all-clear follows the resolution; the rider may have confirmed it meanwhile.
        **{(s, Action.HAZARD_CLEAR): s for s in (RS, CL)},
    }
)


class May(StrEnum):
    """Who may take an action on a ticket (checked by the one call that changes tickets)."""

    REPORTER = "reporter"
    """The rider who filed it."""
    FOLLOWER = "follower"
    """The rider who filed it or a rider whose report was merged into it."""
    RIDER = "rider"
    """Any rider (a report of the same problem joins the ticket)."""
    WORKER = "worker"
    """Staff working it: its holder, or staff covering its area; a department only once it
    has checked in (报到) and holds it."""
    HOLDER = "holder"
    """Its current holder only (延期, 退回)."""
    ABOVE_HOLDER = "above_holder"
    """A lead covering it who outranks its holder (同意 / 驳回)."""
    LEAD = "lead"
    """A lead covering it (吹哨)."""
    SUMMONED = "summoned"
    """A liaison of the department summoned to it (报到)."""
    SYSTEM = "system"
    """gridbot itself: the deadline sweeps and the duplicate rules."""


WHO_MAY: dict[Action, May] = {
    Action.CREATE: May.REPORTER,
    Action.ADD_INFO: May.REPORTER,
    Action.WITHDRAW: May.REPORTER,
    Action.REMOVE_INFO: May.REPORTER,
    Action.REQUEST_DETAILS: May.SYSTEM,
    Action.CLAIM: May.WORKER,
    Action.NOTE: May.WORKER,
    Action.RESOLVE: May.WORKER,
    Action.TRANSFER: May.WORKER,
    Action.SPLIT: May.WORKER,
    Action.CONFIRM: May.FOLLOWER,
    Action.REOPEN: May.FOLLOWER,
    Action.JOIN: May.RIDER,
    Action.REQUEST_EXTENSION: May.HOLDER,
    Action.RETURN: May.HOLDER,
    Action.PASS_ON: May.HOLDER,
    Action.APPROVE_EXTENSION: May.ABOVE_HOLDER,
    Action.REFUSE_EXTENSION: May.ABOVE_HOLDER,
    Action.CONFIRM_RETURN: May.ABOVE_HOLDER,
    Action.REFUSE_RETURN: May.ABOVE_HOLDER,
    Action.SUMMON: May.LEAD,
    Action.CHECK_IN: May.SUMMONED,
    Action.REMIND: May.SYSTEM,
    Action.ESCALATE: May.SYSTEM,
    Action.AUTO_CLOSE: May.SYSTEM,
    Action.MERGE: May.SYSTEM,
    Action.FLAG_OLD_PHOTO: May.SYSTEM,
    Action.RESOLUTION_PHOTO: May.HOLDER,
    # A lead's 预警 is checked by the hazard service and recorded with the lead's name.
    Action.HAZARD_ALERT: May.SYSTEM,
    Action.HAZARD_CLEAR: May.SYSTEM,
}


class Holder(StrEnum):
    """Who holds the ticket after an action."""

    UNCHANGED = "unchanged"
    ACTOR = "actor"
    """The one who acted takes it (认领, 进展, 办结, 报到)."""
    GRID = "grid"
    """The worker of the grid it is transferred to; unclaimed again."""
    DEPARTMENT = "department"
    """The summoned department; unclaimed until it checks in."""

    @property
    def unclaims(self) -> bool:
        return self in (Holder.GRID, Holder.DEPARTMENT)


HOLDER_AFTER: dict[Action, Holder] = {
    Action.CLAIM: Holder.ACTOR,
    Action.NOTE: Holder.ACTOR,
    Action.RESOLVE: Holder.ACTOR,
    Action.CHECK_IN: Holder.ACTOR,
    Action.TRANSFER: Holder.GRID,
    Action.SUMMON: Holder.DEPARTMENT,
}

CLOSING_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.WITHDRAWN})
"""Statuses that end a ticket's life (closed_at is set on entering them)."""

WITHDRAW_MINUTES = 10
"""How long after filing a rider may take a report back."""

NOT_CASES = frozenset({Status.MERGED, Status.REJECTED, Status.WITHDRAWN})
"""Tickets that are not cases to handle: confirmations of another ticket, reports refused
as not valid, reports withdrawn. Figures and KPIs leave them out."""


class InvalidTransition(Exception):
    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action} a ticket that is {status}")
        self.status = status
        self.action = action


@dataclass(frozen=True, slots=True)
class Transition:
    """What applying an action does: the new status and the event to record."""

    action: Action
    from_status: Status | None
    to_status: Status
    note: str = ""


def apply(status: Status | str | None, action: Action, note: str = "") -> Transition:
    """Apply `action` to a ticket in `status` (None: not yet created), or raise InvalidTransition."""
    if status is None:
        if action is not Action.CREATE:
            raise InvalidTransition(Status.ASSIGNED, action)
        return Transition(action, None, Status.ASSIGNED, note)
    current = Status(status)
    try:
        new = TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(current, action) from None
    return Transition(action, current, new, note)


def allowed_actions(status: Status | str) -> frozenset[Action]:
    current = Status(status)
    return frozenset(action for (s, action) in TRANSITIONS if s is current)
