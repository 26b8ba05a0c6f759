"""The notice table: who is told of each action, with which text (a table-driven test of
every (action, audience) pair), and every action has a rule for who may take it."""

import pytest

from app.domain.ticket_notices import NOTICES, Audience, When
from app.domain.tickets import TRANSITIONS, WHO_MAY, Action
from app.services.handling.ticket_notices import TEXTS

F, H, W, P, L = (
    Audience.FOLLOWERS,
    Audience.HOLDER,
    Audience.WORKER,
    Audience.PREVIOUS_HOLDER,
    Audience.LEAD_ABOVE,
)

EXPECTED = {
    (Action.CREATE, H): "new_ticket",
    (Action.ADD_INFO, W): "more_info",
    (Action.REMOVE_INFO, W): "info_taken_back",
    (Action.REQUEST_DETAILS, Audience.REPORTER): "describe_please",
    (Action.REQUEST_DETAILS, W): "photo_unusable",
    (Action.CLAIM, F): "claimed",
    (Action.NOTE, F): "note",
    (Action.RESOLVE, F): "resolved",
    (Action.RESOLVE, Audience.GRID_WORKER): "resolved_by_department",
    (Action.RESOLVE, Audience.SUMMONER): "resolved_by_department",
    (Action.TRANSFER, H): "transferred_to_worker",
    (Action.TRANSFER, P): "transferred_away",
    (Action.TRANSFER, F): "transferred",
    (Action.CONFIRM, H): "confirmed_for_worker",
    (Action.CONFIRM, F): "confirmed_for_rider",
    (Action.REOPEN, H): "reopened_for_worker",
    (Action.REOPEN, L): "reopened_for_lead",
    (Action.REOPEN, F): "reopened_for_rider",
    (Action.AUTO_CLOSE, F): "auto_closed_for_rider",
    (Action.AUTO_CLOSE, H): "auto_closed_for_worker",
    (Action.REMIND, H): "reminder",
    (Action.ESCALATE, Audience.LADDER): "escalation",
    (Action.SUMMON, Audience.SUMMONED): "summoned_for_department",
    (Action.SUMMON, P): "summoned_for_holder",
    (Action.CHECK_IN, F): "checked_in_for_rider",
    (Action.CHECK_IN, Audience.SUMMONER): "checked_in_for_summoner",
    (Action.REQUEST_EXTENSION, L): "extension_request",
    (Action.APPROVE_EXTENSION, H): "extension_approved",
    (Action.REFUSE_EXTENSION, H): "extension_refused",
    (Action.RETURN, L): "return_request",
    (Action.PASS_ON, L): "pass_on_request",
    (Action.PASS_ON, F): "passed_on_for_rider",
    (Action.CONFIRM_RETURN, F): "rejected_for_rider",
    (Action.CONFIRM_RETURN, H): "return_confirmed",
    (Action.REFUSE_RETURN, H): "return_refused",
    (Action.MERGE, H): "merged_for_worker",
    (Action.MERGE, F): "joined_for_rider",
    (Action.JOIN, H): "more_reports",
    (Action.SPLIT, H): "split_for_worker",
    (Action.SPLIT, F): "split_for_rider",
    (Action.WITHDRAW, H): "withdrawn_for_worker",
    (Action.RESOLUTION_PHOTO, F): "resolution_photo",
    (Action.FLAG_OLD_PHOTO, W): "old_photo",
}
CONDITIONAL = {
    (Action.MERGE, H): When.ANNOUNCED,
    (Action.MERGE, F): When.ANNOUNCED,
    (Action.JOIN, H): When.GATHERED,
    (Action.SPLIT, H): When.SPLIT_OFF,
    (Action.SPLIT, F): When.SPLIT_OFF,
}


def _table() -> dict:
    return {(a, n.audience): n for a, notices in NOTICES.items() for n in notices}


@pytest.mark.parametrize(("action", "audience"), sorted(EXPECTED))
def test_each_action_tells_each_audience_its_text(action, audience):
    notice = _table()[(action, audience)]
    assert notice.text == EXPECTED[(action, audience)]
    assert notice.when is CONDITIONAL.get((action, audience))
    assert notice.text in TEXTS and notice.kind


def test_nobody_else_is_told_of_anything():
    assert set(_table()) == set(EXPECTED)
    for notices in NOTICES.values():  # one entry per audience and action
        assert len({n.audience for n in notices}) == len(notices)


def test_riders_merged_into_a_ticket_hear_every_end_of_it():
    for action in (Action.AUTO_CLOSE, Action.CONFIRM_RETURN, Action.REOPEN, Action.CONFIRM):
        assert (action, F) in EXPECTED


def test_every_action_has_a_rule_for_who_may_take_it():
    assert {a for _, a in TRANSITIONS} | {Action.CREATE} <= set(WHO_MAY)
