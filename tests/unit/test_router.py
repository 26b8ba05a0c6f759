from datetime import UTC, datetime

import pytest

from bot.inbound import InboundMessage
from bot.router import Dispatcher, Router, match_command
from handlers.context import split_number


@pytest.mark.parametrize(
    ("text", "words", "args"),
    [
        ("认领 12", ("认领", "claim"), "12"),
        ("认领12", ("认领",), "12"),
        ("认领", ("认领",), ""),
        ("　认领：12 ", ("认领",), "12"),
        ("Claim 12", ("claim",), "12"),
        ("claimed 12", ("claim",), None),
        ("我要认领", ("认领",), None),
        ("办结 12 积水已排除", ("办结", "done"), "12 积水已排除"),
    ],
)
def test_match_command(text, words, args):
    assert match_command(text, words) == args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("12 路面已清理", (12, "路面已清理")),
        ("#12", (12, "")),
        ("# 7 好了", (7, "好了")),
        ("路面已清理", (None, "路面已清理")),
        ("12路面", (None, "12路面")),
        ("", (None, "")),
    ],
)
def test_split_number(args, expected):
    assert split_number(args) == expected


class Ctx:
    def __init__(self, msg):
        self.msg = msg


def _msg(kind="text", text="", event=None):
    return InboundMessage(
        kind=kind, openid="u", account="gh", created_at=datetime.now(UTC), text=text, event=event
    )


def test_dispatcher_tries_routes_in_order_and_falls_back():
    first, second = Router("a"), Router("b")
    seen = []

    @first.command("认领", when=lambda ctx: False)
    def never(ctx, args):
        seen.append("never")
        return "never"

    @first.command("认领")
    def passes(ctx, args):
        seen.append("passes")
        return None

    @second.command("认领")
    def claims(ctx, args):
        return f"claimed {args}"

    @second.on("event:subscribe")
    def welcome(ctx, args):
        return "welcome"

    d = Dispatcher([first, second], fallback=lambda ctx: "help")
    assert d.dispatch(Ctx(_msg(text="认领 3"))) == "claimed 3"
    assert seen == ["passes"]
    assert d.dispatch(Ctx(_msg(kind="event", event="subscribe"))) == "welcome"
    assert d.dispatch(Ctx(_msg(kind="image"))) == "help"


def test_long_replies_are_cut_at_a_line_inside_wechats_limit():
    from app.inbox.chat import fit_reply

    lines = [f"#{i} 道路积水 处理中 11-20 10:00 枫林路与东安路口" for i in range(100)]
    text = "\n".join(lines)
    cut = fit_reply(text)
    assert len(cut.encode()) <= 2000
    assert cut.endswith("……") and cut.splitlines()[0] == lines[0]
    assert all(line in lines for line in cut.splitlines()[:-1])
    assert fit_reply("短回复") == "短回复"
    assert len(fit_reply("积" * 2000).encode()) <= 2000
