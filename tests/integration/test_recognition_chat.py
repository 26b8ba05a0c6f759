"""「我的积分」 and `gridbot riders top`: points for reports that led to action."""

import pytest

from tests.chatkit import FENGYUAN_1, NANYUAN_4


def report_and_close(chat, rider, where, worker, number):
    chat.text(rider, "路口积水很深，电动车过不去")
    chat.location(rider, where, "路口")
    chat.text(worker, f"认领 {number}")
    chat.text(worker, f"办结 {number} 积水已排除")
    assert "已关闭" in chat.text(rider, f"满意 {number}")


def test_no_points_yet_says_how_to_earn(chat):
    assert chat.text("rider-1", "我的积分") == (
        "您11月还没有积分。上报的问题处理完并关闭得 10 分，确认别人已上报的问题得 2 分，"
        "每天最多 20 分。"
    )


def test_a_closed_report_and_a_confirmation_earn_and_rank_in_the_street(chat, clock):
    report_and_close(chat, "rider-1", FENGYUAN_1, "worker-1", 1)
    # rider-2 reports the same flooding again: it joins ticket #2 of rider-3 as a confirmation
    chat.text("rider-3", "路口积水很深，电动车过不去")
    chat.location("rider-3", FENGYUAN_1, "路口")
    clock.advance(minutes=1)
    chat.text("rider-2", "这里积水很深")
    assert "#2" in chat.location("rider-2", FENGYUAN_1, "路口")
    assert chat.text("rider-1", "我的积分").startswith(
        "您11月的积分：10 分。在枫林街道排第 1 名（共 2 位骑手有积分）。"
    )
    assert chat.text("rider-2", "我的积分").startswith(
        "您11月的积分：2 分。在枫林街道排第 2 名（共 2 位骑手有积分）。"
    )
    # the reporter of the open ticket has earned nothing yet
    assert chat.text("rider-3", "我的积分").startswith("您11月还没有积分。")


def test_a_report_in_another_street_counts_there(chat):
    report_and_close(chat, "rider-1", NANYUAN_4, "worker-16", 1)
    assert "在湖南路街道排第 1 名" in chat.text("rider-1", "我的积分")


def test_riders_top_lists_riders_by_number_never_openid(chat, cli):
    report_and_close(chat, "rider-1", FENGYUAN_1, "worker-1", 1)
    out = cli("riders", "top", "--area", "310199001", "--month", "2026-11")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "枫林街道（310199001）2026-11 骑手积分榜"
    assert lines[1].strip().startswith("1. 骑手R") and lines[1].endswith("10 分")
    assert "rider-1" not in out.output
    empty = cli("riders", "top", "--area", "310199002", "--month", "2026-10")
    assert "本月还没有骑手得分。" in empty.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--area", "nowhere", "--month", "2026-11"), "没有编码为 nowhere 的区域"),
        (("--area", "310199", "--month", "11月"), "应写成 2026-11"),
    ],
)
def test_riders_top_refuses_bad_input_in_one_line(cli, demo_sessions, args, says):
    out = cli("riders", "top", *args, ok=False)
    assert out.exit_code == 1 and says in out.output and "Traceback" not in out.output


def _number(chat, openid):
    from models import Rider

    with chat.sessions() as s:
        return f"R{s.query(Rider.id).filter_by(openid=openid).scalar():04d}"


def test_a_rider_sets_a_nickname_and_the_board_shows_it_with_the_number(chat, cli):
    report_and_close(chat, "rider-1", FENGYUAN_1, "worker-1", 1)
    number = _number(chat, "rider-1")
    assert chat.text("rider-1", "昵称") == (
        f"您还没有昵称，积分榜上显示为「骑手{number}」。回复「昵称 小王」设置昵称（最多 12 个字）。"
    )
    assert chat.text("rider-1", "昵称：小王\u200b") == (
        f"好的，您的昵称已设为「小王」，积分榜上显示为「小王（{number}）」。"
    )
    out = cli("riders", "top", "--area", "310199001", "--month", "2026-11").output
    assert out.splitlines()[1] == f"  1. 小王（{number}）  10 分"
    assert chat.text("rider-1", "昵称") == (
        f"您的昵称是「小王」，积分榜上显示为「小王（{number}）」。"
        "改昵称回复「昵称 新昵称」，不想显示昵称回复「昵称 删除」。"
    )
    assert chat.text("rider-1", "昵称 删除") == f"已删除昵称，积分榜上显示为「骑手{number}」。"
    out = cli("riders", "top", "--area", "310199001", "--month", "2026-11").output
    assert out.splitlines()[1] == f"  1. 骑手{number}  10 分"


@pytest.mark.parametrize(
    ("says", "answer"),
    [
        ("昵称 rider-2", "昵称不能是微信账号编号，请换一个。"),  # another rider's openid
        ("昵称 RIDER-1", "昵称不能是微信账号编号，请换一个。"),
        ("昵称 worker-1", "昵称不能是微信账号编号，请换一个。"),  # a worker's
        ("昵称 骑手R0002", "昵称不能是骑手编号，请换一个。"),
        ("昵称 这个昵称实在是太长了一点点吧", "昵称最多 12 个字，请短一些。"),
        ("昵称 \u200b", "昵称不能为空，例如「昵称 小王」。"),
    ],
)
def test_a_nickname_that_may_not_be_one_is_refused_and_nothing_changes(chat, says, answer):
    chat.text("rider-2", "帮助")  # known to the account
    chat.text("rider-1", "昵称 小王")
    assert chat.text("rider-1", says) == answer
    assert chat.text("rider-1", "昵称").startswith("您的昵称是「小王」")
