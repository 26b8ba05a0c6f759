import pytest

from app.domain.tickets import (
    TRANSITIONS,
    Action,
    InvalidTransition,
    Status,
    allowed_actions,
    apply,
)

A, C, RS, CL, RO, SU, RT, RJ, MG, WD = Status

ALLOWED = [
    (A, Action.CLAIM, C),
    (RO, Action.CLAIM, C),
    (A, Action.NOTE, C),
    (C, Action.NOTE, C),
    (A, Action.RESOLVE, RS),
    (C, Action.RESOLVE, RS),
    (RO, Action.RESOLVE, RS),
    (C, Action.TRANSFER, A),
    (RS, Action.CONFIRM, CL),
    (RS, Action.REOPEN, RO),
    (C, Action.ADD_INFO, C),
    (A, Action.REMIND, A),
    (C, Action.ESCALATE, C),
    (RS, Action.AUTO_CLOSE, CL),
    (A, Action.SUMMON, SU),
    (SU, Action.CHECK_IN, C),
    (C, Action.REQUEST_EXTENSION, C),
    (C, Action.APPROVE_EXTENSION, C),
    (C, Action.RETURN, RT),
    (RT, Action.CONFIRM_RETURN, RJ),
    (RT, Action.REFUSE_RETURN, C),
    (A, Action.MERGE, MG),
    (MG, Action.ADD_INFO, MG),
    (MG, Action.SPLIT, A),
    (A, Action.WITHDRAW, WD),
    (C, Action.JOIN, C),
    (RO, Action.JOIN, RO),
    (RS, Action.SPLIT, RS),
]

REFUSED = [
    (C, Action.CLAIM),
    (RS, Action.CLAIM),
    (CL, Action.CLAIM),
    (CL, Action.RESOLVE),
    (RS, Action.RESOLVE),
    (A, Action.CONFIRM),
    (C, Action.REOPEN),
    (CL, Action.REOPEN),
    (RS, Action.TRANSFER),
    (CL, Action.NOTE),
    (CL, Action.ADD_INFO),
    (CL, Action.REMIND),
    (RS, Action.ESCALATE),
    (C, Action.AUTO_CLOSE),
    (C, Action.CHECK_IN),
    (A, Action.REQUEST_EXTENSION),
    (RS, Action.RETURN),
    (C, Action.CONFIRM_RETURN),
    (RJ, Action.CLAIM),
    (C, Action.MERGE),  # a claimed ticket has a worker on it: it is never merged away
    (MG, Action.CLAIM),
    (MG, Action.RESOLVE),
    (RS, Action.JOIN),
    (CL, Action.SPLIT),
    (C, Action.WITHDRAW),  # somebody is on it: the rider cannot take it back
    (MG, Action.WITHDRAW),
    (WD, Action.CLAIM),
]


@pytest.mark.parametrize(("status", "action", "expected"), ALLOWED)
def test_allowed_transitions(status, action, expected):
    t = apply(status, action, note="x")
    assert (t.from_status, t.to_status, t.action, t.note) == (status, expected, action, "x")


@pytest.mark.parametrize(("status", "action"), REFUSED)
def test_refused_transitions(status, action):
    with pytest.raises(InvalidTransition):
        apply(status, action)


def test_create_starts_assigned_and_nothing_else_applies_to_a_new_ticket():
    assert apply(None, Action.CREATE).to_status is A
    with pytest.raises(InvalidTransition):
        apply(None, Action.CLAIM)


def test_closed_is_terminal_and_open_statuses_are_the_workable_ones():
    assert allowed_actions(RJ) == allowed_actions(WD) == frozenset()
    # A closed ticket changes no more; only the all-clear that its resolution owed (the
    # rider may confirm before the hazard sweep runs) is still recorded on its timeline.
    assert allowed_actions(CL) == {Action.HAZARD_CLEAR}
    assert apply(CL, Action.HAZARD_CLEAR).to_status is CL
    assert {s for s in Status if s.is_open} == {A, C, RO, SU, RT}
    assert all(s.label for s in Status)


def test_statuses_accept_plain_strings_from_the_database():
    assert apply("claimed", Action.RESOLVE).to_status is RS
    assert all(isinstance(k[0], Status) for k in TRANSITIONS)


def test_every_status_has_an_open311_name():
    from app.domain.open311 import STATUSES

    assert set(STATUSES) == set(Status)
