"""The policy is data: shipped defaults, operator overrides, ladder timing, durations."""

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.policy import (
    Ladder,
    PolicyError,
    TimeKind,
    catch_up,
    due_steps,
    merge,
    parse_duration,
    policy_from_dict,
)
from app.services.policies import DEFAULTS, load

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def clock_add(start, minutes):
    return start + timedelta(minutes=minutes)


def test_shipped_defaults_follow_the_city_rules():
    policy = load()
    flooding = policy.for_category("flooding")
    assert flooding.time is TimeKind.CLOCK
    assert (flooding.normal.claim, flooding.normal.resolve) == (15, 240)
    assert flooding.severe.claim < flooding.normal.claim
    for urgent in ("flooding", "fallen_tree", "manhole_cover", "safety_hazard"):
        assert policy.for_category(urgent).time is TimeKind.CLOCK
    bulky = policy.for_category("bulky_waste")
    assert bulky.time is TimeKind.WORKING and bulky.normal.resolve == 480
    assert policy.for_category("no_such_category") == policy.default
    assert policy.auto_close_minutes == 24 * 60
    assert policy.is_severe("有人受伤了") and not policy.is_severe("有点积水")


def test_an_override_file_changes_only_what_it_names(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text(
        "[categories.flooding]\nclaim_minutes = 5\n[closure]\nauto_close_hours = 48\n",
        encoding="utf-8",
    )
    policy = load(path)
    assert policy.for_category("flooding").normal == type(policy.default.normal)(5, 240)
    assert policy.for_category("flooding").time is TimeKind.CLOCK
    assert policy.auto_close_minutes == 48 * 60
    assert load(path).calendar == load().calendar


@pytest.mark.parametrize(
    ("override", "culprit"),
    [
        ({"categories": {"flooding": {"claim_minutes": -1}}}, "categories.flooding.claim_minutes"),
        ({"categories": {"flooding": {"time": "lunar"}}}, "categories.flooding.time"),
        ({"categories": {"flooding": {"ladder": "nope"}}}, "categories.flooding.ladder"),
        ({"ladders": {"urgent": {"levels": ["mayor"]}}}, "ladders.urgent.levels"),
        ({"calendar": {"holidays": ["someday"]}}, "calendar.holidays"),
        ({"closure": {"reopen_factor": 2}}, "closure.reopen_factor"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_key(override, culprit):
    import tomllib

    base = tomllib.loads(DEFAULTS.read_text(encoding="utf-8"))
    with pytest.raises(PolicyError, match=culprit.replace(".", r"\.")):
        policy_from_dict(merge(base, override))


def test_ladder_offsets_reminders_then_one_level_per_grace():
    ladder = Ladder(reminders=2, reminder_every=60, grace=120, levels=("a", "b"))
    assert [ladder.offset(i) for i in range(5)] == [0, 60, 180, 300, None]
    assert Ladder(reminders=0, grace=10, levels=("a", "b")).offset(0) == 0


def test_due_steps_and_catch_up_keep_one_reminder_and_every_level():
    ladder = Ladder(reminders=2, reminder_every=60, grace=120, levels=("a", "b", "c"))
    steps = due_steps(ladder, T0, 0, T0 + timedelta(minutes=300), clock_add)
    assert steps == [0, 1, 2, 3]
    assert catch_up(ladder, steps) == [1, 2, 3]
    assert due_steps(ladder, T0, 4, T0 + timedelta(days=9), clock_add) == [4]
    assert due_steps(ladder, T0, 0, T0 - timedelta(seconds=1), clock_add) == []


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30分钟", 30), ("2小时", 120), ("1.5h", 90), ("1天", 480), ("2个工作日", 960), ("90m", 90)],
)
def test_durations_in_chat(text, minutes):
    assert parse_duration(text, day_minutes=480) == minutes


@pytest.mark.parametrize("text", ["很久", "2", "0分钟", "两小时"])
def test_not_durations(text):
    assert parse_duration(text, day_minutes=480) is None
