"""Binding a second channel: which invites link to an existing staff member and which make
a new one (app/services/directory/staff_channels.py), as the person sending 绑定 hears it.

The WeCom side speaks as the web layer hands it over: "wecom:<userid>" until bound."""

from __future__ import annotations

from sqlalchemy import select, update

from app.db import unit_of_work
from app.services.directory import people, staff_channels
from models import Staff
from tests.chatkit import Chat

GRID_1 = "31019900100101"  # 枫苑一网格, worker-1 张伟


def _invite(sessions, clock, name: str = "", for_openid: str = "") -> str:
    with unit_of_work(sessions) as s:
        person = staff_channels.find_staff(s, for_openid) if for_openid else None
        return people.create_invite(
            s, role="grid_worker", area_code=GRID_1, now=clock(), name=name, for_staff=person
        ).code


def _named(sessions, name: str) -> list[tuple[str | None, str | None]]:
    with sessions() as s:
        rows = s.scalars(select(Staff).where(Staff.name == name).order_by(Staff.id))
        return [(r.openid, r.wecom_userid) for r in rows]


def test_an_invite_without_a_name_makes_a_new_staff_member(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    reply = chat.text("wecom:somebody", f"绑定 {_invite(demo_sessions, clock)}")
    assert reply.startswith("绑定成功！您是枫苑一网格的网格员（网格员body）")
    assert _named(demo_sessions, "张伟") == [("worker-1", None)]  # 张伟 is not linked


def test_two_people_of_that_name_role_and_grid_make_a_new_record_not_a_guess(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    with unit_of_work(demo_sessions) as s:
        people.add_staff(s, name="张伟", role="grid_worker", area_code=GRID_1, openid="wx-zw2")
    reply = chat.text("wecom:zhangwei", f"绑定 {_invite(demo_sessions, clock, '张伟')}")
    assert reply.startswith("绑定成功！您是") and "关联" not in reply
    assert _named(demo_sessions, "张伟") == [
        ("worker-1", None),
        ("wx-zw2", None),
        ("wecom:zhangwei", "zhangwei"),
    ]


def test_a_named_invite_links_the_one_person_bound_on_the_other_channel(demo_sessions, clock):
    chat = Chat(demo_sessions, clock)
    reply = chat.text("wecom:zhangwei", f"绑定 {_invite(demo_sessions, clock, '张伟')}")
    assert "企业微信已关联到您现有的工作人员身份" in reply and "（张伟）" in reply
    assert _named(demo_sessions, "张伟") == [("worker-1", "zhangwei")]


def test_an_invite_for_a_person_rebinds_their_channel_and_refuses_once_they_left(
    demo_sessions, clock
):
    chat = Chat(demo_sessions, clock)
    new_phone = chat.text(
        "wx-new-phone", f"绑定 {_invite(demo_sessions, clock, for_openid='worker-1')}"
    )
    assert new_phone.startswith(
        "绑定成功！微信已换绑到您的工作人员身份：您是枫苑一网格的网格员（张伟）"
    )
    assert _named(demo_sessions, "张伟") == [("wx-new-phone", None)]
    assert "无需重复绑定" in chat.text(
        "wx-new-phone", f"绑定 {_invite(demo_sessions, clock, '张伟')}"
    )

    code = _invite(demo_sessions, clock, for_openid="wx-new-phone")
    with unit_of_work(demo_sessions) as s:
        s.execute(update(Staff).where(Staff.openid == "wx-new-phone").values(active=False))
    assert chat.text("wecom:zhangwei", f"绑定 {code}") == (
        "这个绑定码对应的工作人员已停用，请向管理员索取新的绑定码。"
    )
    assert _named(demo_sessions, "张伟") == [("wx-new-phone", None)]
