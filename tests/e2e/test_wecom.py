"""Staff on WeCom (企业微信): encrypted callbacks (built with wechatpy.enterprise's crypto)
into the running app, the same chat engine answering, notices out to a fake WeCom API."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.services.directory import people, staff_channels
from models import OutboxMessage, Staff, Ticket
from tests.chatkit import FENGYUAN_1
from tests.e2e.conftest import wait_for
from tests.e2e.test_ack_budget import _hold_handlers
from tests.fakewecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    WeComUser,
)


@pytest.fixture
def wecom_bot(gridbot, fake_wecom):
    """The app in safe mode with the WeCom app configured; (bot, WeCom user client)."""
    return _with_wecom(gridbot, fake_wecom)


def _with_wecom(gridbot, fake_wecom, **settings):
    bot = gridbot(
        "safe",
        wecom_corp_id=CORP_ID,
        wecom_agent_id=AGENT_ID,
        wecom_secret=SECRET,
        wecom_token=TOKEN,
        wecom_aes_key=AES_KEY,
        wecom_api_base=fake_wecom.base_url,
        duplicate_distance_m=0,
        **settings,
    )
    return bot, WeComUser(bot.http)


def _invite(bot, area_code: str, name: str = "李娜") -> str:
    with bot.sessions() as s, s.begin():
        return people.create_invite(
            s, role="grid_worker", area_code=area_code, now=datetime.now(UTC), name=name
        ).code


def _grid_of(bot, openid: str) -> str:
    with bot.sessions() as s:
        return s.scalars(select(Staff).where(Staff.openid == openid)).one().area.code


def test_the_echo_check_returns_the_decrypted_echostr(wecom_bot):
    _, wecom = wecom_bot
    good = wecom.echo_check("6123456789012345678")
    assert good.status_code == 200
    assert good.headers["content-type"].startswith("text/plain")
    assert good.text == "6123456789012345678"
    assert wecom.echo_check("6123456789012345678", signature="0" * 40).status_code == 403


def test_forged_or_foreign_callbacks_are_refused(wecom_bot):
    bot, wecom = wecom_bot
    params, body = wecom._seal("<xml><MsgType>text</MsgType></xml>")
    forged = bot.http.post("/wecom", params={**params, "msg_signature": "0" * 40}, content=body)
    assert forged.status_code == 403
    other_app = WeComUser(bot.http, agent_id="1000009")
    assert (
        other_app.post("wangfang", "<MsgType>text</MsgType><Content>帮助</Content>").status_code
        == 403
    )
    other_corp = WeComUser(bot.http, corp_id="wwsomeoneelse00001")
    assert (
        other_corp.post("wangfang", "<MsgType>text</MsgType><Content>帮助</Content>").status_code
        == 403
    )


def test_wecom_is_absent_until_configured(gridbot):
    bot = gridbot("safe")
    assert bot.http.get("/wecom", params={"echostr": "x"}).status_code == 404


def test_binding_and_commands_from_wecom(wecom_bot):
    bot, wecom = wecom_bot
    code = _invite(bot, _grid_of(bot, "worker-1"))

    assert "请回复「绑定 绑定码」" in wecom.say("lina", "绑定")
    bound = wecom.say("lina", f"绑定 {code}")
    assert "绑定成功" in bound and "李娜" in bound
    with bot.sessions() as s:
        staff = s.scalars(select(Staff).where(Staff.wecom_userid == "lina")).one()
        assert staff.role == "grid_worker"

    assert "位置" in bot.say("rider-1", "路口积水很深")
    filed = bot.send_location("rider-1", FENGYUAN_1, "枫林路口")
    assert "#1" in filed
    assert "已认领工单 #1" in wecom.say("lina", "认领 1")
    with bot.sessions() as s:
        assert s.get(Ticket, 1).status == "claimed"
    assert "#1" in wecom.say("lina", "我的工单")
    # the rider hears on the official account who holds it
    assert "李娜" in bot.wait_notice("rider-1", "认领")


def test_a_stranger_on_wecom_is_not_staff(wecom_bot):
    _, wecom = wecom_bot
    answer = wecom.say("stranger", "认领 1")
    assert "工作人员" in answer and "绑定" in answer


def test_one_person_bound_on_both_channels_is_one_staff_member(wecom_bot):
    bot, wecom = wecom_bot
    grid = _grid_of(bot, "worker-1")
    with bot.sessions() as s, s.begin():
        people.add_staff(
            s,
            name="赵敏",
            role="grid_worker",
            area_code=grid,
            openid="zhaomin-openid",
            wecom_userid="zhaomin",
            priority=1,
        )
    assert "无需重复绑定" in wecom.say("zhaomin", f"绑定 {_invite(bot, grid)}")
    assert "无需重复绑定" in bot.say("zhaomin-openid", f"绑定 {_invite(bot, grid)}")


def _bind_on_wecom(bot, openid: str, userid: str) -> None:
    """An operator records a staff member's WeCom userid (as `gridbot staff link` does)."""
    with bot.sessions() as s, s.begin():
        staff_channels.set_wecom_userid(s, staff_channels.find_staff(s, openid), userid)


def _file_report(bot, rider: str = "rider-1") -> None:
    assert "位置" in bot.say(rider, "路口积水很深")
    assert "已受理！工单号 #" in bot.send_location(rider, FENGYUAN_1, "枫林路口")


def test_a_worker_silent_for_three_days_still_gets_the_new_ticket_on_wecom(wecom_bot, fake_wecom):
    bot, _ = wecom_bot
    _bind_on_wecom(bot, "worker-1", "zhangwei")
    # Three days without a word: the official account's 48-hour window is closed.
    bot.fake.fail_next(45015, times=50)
    _file_report(bot)

    wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new ticket on WeCom")
    time.sleep(0.5)  # anything sent twice would have arrived by now
    new = fake_wecom.messages_to("zhangwei")
    assert len(new) == 1
    assert "新工单 #1" in str(new[0]) and "路口积水很深" in str(new[0])
    assert bot.notices_to("worker-1") == []


def test_a_worker_bound_on_both_channels_gets_each_notice_once(wecom_bot, fake_wecom):
    bot, wecom = wecom_bot
    _bind_on_wecom(bot, "worker-1", "zhangwei")
    _file_report(bot)
    wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new ticket on WeCom")

    assert "已认领工单 #1" in bot.say("worker-1", "认领 1")  # claimed on the official account
    assert "已办结" in wecom.say("zhangwei", "办结 1 积水已排除")  # resolved from WeCom
    assert "已关闭" in bot.say("rider-1", "满意")
    wait_for(lambda: len(fake_wecom.messages_to("zhangwei")) == 2, "the closing notice")
    time.sleep(0.5)  # anything sent twice would have arrived by now
    told = fake_wecom.messages_to("zhangwei")
    assert len(told) == 2 and "已关闭" in str(told[1])
    assert bot.notices_to("worker-1") == []


def test_claim_by_the_card_button_and_a_second_presser_is_told_who_holds_it(wecom_bot, fake_wecom):
    bot, wecom = wecom_bot
    _bind_on_wecom(bot, "worker-1", "zhangwei")
    with bot.sessions() as s, s.begin():
        people.add_staff(
            s,
            name="赵敏",
            role="grid_worker",
            area_code=_grid_of(bot, "worker-1"),
            wecom_userid="zhaomin",
            priority=1,
        )
    _file_report(bot)
    (sent,) = wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new-ticket card")
    assert sent["msgtype"] == "template_card"
    card = sent["template_card"]
    assert card["card_type"] == "button_interaction"
    assert card["main_title"]["title"].endswith("新工单 #1")
    fields = {f["keyname"]: f["value"] for f in card["horizontal_content_list"]}
    assert fields["类别"] and "枫林路口" in fields["地点"]
    assert fields["紧急程度"] in ("一般", "紧急") and "认领" in fields["期限"]
    claim, where = card["button_list"]
    assert (claim["text"], where["text"]) == ("认领", "查看位置")
    assert where["url"].startswith("https://")

    answer = wecom.press("zhangwei", card["task_id"], claim["key"])
    assert "已认领工单 #1" in answer
    with bot.sessions() as s:
        ticket = s.get(Ticket, 1)
        assert ticket.status == "claimed" and ticket.assignee.name == "张伟"
    (update,) = wait_for(lambda: fake_wecom.updates, "the card updated in place")
    assert update["userids"] == ["zhangwei"]
    assert update["button"]["replace_name"] == "已由张伟认领"
    assert update["response_code"].startswith(f"rc-{card['task_id']}")
    assert "张伟" in bot.wait_notice("rider-1", "认领")  # the rider hears as after a typed 认领

    second = wecom.press("zhaomin", card["task_id"], claim["key"])
    assert "张伟" in second
    with bot.sessions() as s:
        assert s.get(Ticket, 1).assignee.name == "张伟"
    wait_for(lambda: len(fake_wecom.updates) == 2, "the second card updated")
    assert fake_wecom.updates[1]["userids"] == ["zhaomin"]
    assert fake_wecom.updates[1]["button"]["replace_name"] == "已由张伟认领"


def test_a_card_update_wecom_refuses_is_retried_and_the_claim_stands(wecom_bot, fake_wecom):
    bot, wecom = wecom_bot
    _bind_on_wecom(bot, "worker-1", "zhangwei")
    _file_report(bot)
    (sent,) = wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new-ticket card")
    card = sent["template_card"]
    fake_wecom.fail_next(-1)  # "system busy" for the update after the claim

    answer = wecom.press("zhangwei", card["task_id"], card["button_list"][0]["key"])
    assert "已认领工单 #1" in answer
    with bot.sessions() as s:
        assert s.get(Ticket, 1).status == "claimed"
    (update,) = wait_for(lambda: fake_wecom.updates, "the card updated on a later attempt")
    assert update["button"]["replace_name"] == "已由张伟认领"

    def update_row():
        with bot.sessions() as s:
            row = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "card_update")).one()
            return (row.status, row.attempts, row.last_errcode)

    wait_for(lambda: update_row()[0] == "sent", "the update marked sent")
    assert update_row() == ("sent", 2, -1)  # the failed attempt, then the one that went


def test_a_card_pressed_when_the_answer_misses_the_five_seconds_is_still_updated(
    gridbot, fake_wecom
):
    bot, wecom = _with_wecom(gridbot, fake_wecom, ack_budget_seconds=0.5)
    _bind_on_wecom(bot, "worker-1", "zhangwei")
    _file_report(bot)
    (sent,) = wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new-ticket card")
    card = sent["template_card"]
    release = _hold_handlers(bot)  # a slow database: the claim outlasts the ack budget

    assert wecom.press("zhangwei", card["task_id"], card["button_list"][0]["key"]) == ""
    release.set()
    answer = wait_for(lambda: fake_wecom.texts_to("zhangwei"), "the claim's answer, late")
    assert "已认领工单 #1" in answer[0]
    (update,) = wait_for(lambda: fake_wecom.updates, "the card updated after the claim")
    assert update["userids"] == ["zhangwei"]
    assert update["button"]["replace_name"] == "已由张伟认领"
    assert update["response_code"].startswith(f"rc-{card['task_id']}")


def _count(bot, name: str) -> int:
    with bot.sessions() as s:
        return len(s.scalars(select(Staff).where(Staff.name == name)).all())


def test_a_worker_on_the_official_account_binds_wecom_with_an_invite_made_for_them(
    wecom_bot, fake_wecom
):
    bot, wecom = wecom_bot
    with bot.sessions() as s, s.begin():
        zhangwei = s.scalars(select(Staff).where(Staff.openid == "worker-1")).one()
        code = people.create_invite(
            s, role="", area_code="", now=datetime.now(UTC), for_staff=zhangwei
        ).code

    bound = wecom.say("zhangwei", f"绑定 {code}")
    assert "企业微信已关联到您现有的工作人员身份" in bound and "张伟" in bound
    assert _count(bot, "张伟") == 1  # the same person, not a second 张伟
    assert "无需重复绑定" in wecom.say(
        "zhangwei", f"绑定 {_invite(bot, _grid_of(bot, 'worker-1'))}"
    )

    _file_report(bot)
    (card,) = wait_for(lambda: fake_wecom.messages_to("zhangwei"), "the new ticket on WeCom")
    assert card["msgtype"] == "template_card"
    assert "已认领工单 #1" in wecom.say("zhangwei", "认领 1")
    assert "#1" in bot.say("worker-1", "我的工单")  # one person: the official account knows it
    assert "张伟" in bot.wait_notice("rider-1", "认领")
    assert "已办结" in bot.say("worker-1", "办结 1 积水已排除")
    assert "已关闭" in bot.say("rider-1", "满意")
    wait_for(lambda: len(fake_wecom.messages_to("zhangwei")) == 2, "the closing notice")
    time.sleep(0.5)  # anything sent twice would have arrived by now
    assert len(fake_wecom.messages_to("zhangwei")) == 2
    assert bot.notices_to("worker-1") == []  # never on both


def test_a_second_invite_for_the_same_person_links_the_official_account_to_their_wecom(
    wecom_bot, fake_wecom
):
    bot, wecom = wecom_bot
    grid = _grid_of(bot, "worker-1")
    assert "绑定成功！您是" in wecom.say("lina", f"绑定 {_invite(bot, grid, '欧阳青')}")  # on WeCom

    bound = bot.say("lina-openid", f"绑定 {_invite(bot, grid, '欧阳青')}")  # same name, role, grid
    assert "微信已关联到您现有的工作人员身份" in bound and "欧阳青" in bound
    assert "通知只发到企业微信" in bound
    with bot.sessions() as s:
        (lina,) = s.scalars(select(Staff).where(Staff.name == "欧阳青")).all()
        assert (lina.openid, lina.wecom_userid) == ("lina-openid", "lina")

    _file_report(bot)
    assert "已认领工单 #1" in bot.say("lina-openid", "认领 1")  # claimed on the official account
    assert "#1" in wecom.say("lina", "我的工单")
    assert "欧阳青" in bot.wait_notice("rider-1", "认领")
    assert "已办结" in wecom.say("lina", "办结 1 积水已排除")
    assert "已关闭" in bot.say("rider-1", "满意")
    wait_for(lambda: fake_wecom.messages_to("lina"), "the closing notice on WeCom")
    time.sleep(0.5)
    (closed,) = fake_wecom.messages_to("lina")
    assert "已关闭" in str(closed)
    assert bot.notices_to("lina-openid") == []

    # someone else with the same role and grid is a new person, not 欧阳青
    with bot.sessions() as s, s.begin():
        code = people.create_invite(
            s, role="grid_worker", area_code=grid, now=datetime.now(UTC), name="周杰"
        ).code
    assert "绑定成功！您是" in wecom.say("zhoujie", f"绑定 {code}")
    assert _count(bot, "欧阳青") == 1 and _count(bot, "周杰") == 1
