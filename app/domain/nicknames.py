"""A rider's nickname (昵称): how they choose to appear on the points boards that leads
and riders read, beside their short rider number.

Pure rules: what a rider typed is cleaned (control and invisible formatting characters
removed, whitespace runs made one space) and refused, with a reason a rider understands,
when it is empty, too long, or passes itself off as a rider number. That it is nobody's
account id (openid) is the service's check: it needs the accounts.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 12
"""A board line stays one line on a phone: a name, the rider number and the points. A
WeChat openid (28 characters) never fits."""

CLEAR_WORDS = frozenset({"删除", "清除", "取消", "无"})
"""「昵称 删除」: show the rider number alone again."""

_RIDER_NUMBER = re.compile(r"^(骑手)?\s*R\s*\d+$", re.IGNORECASE)


class BadNickname(ValueError):
    """The reason, in the words the rider reads."""


def clean(text: str) -> str:
    """`text` without control or formatting characters (newlines and tabs become spaces;
    zero-width and direction marks go), whitespace runs made one space, ends trimmed."""
    kept = []
    for ch in text:
        kind = unicodedata.category(ch)
        if kind == "Cc":
            kept.append(" ")
        elif not kind.startswith("C"):
            kept.append(ch)
    return " ".join("".join(kept).split())


def nickname(text: str) -> str:
    """The nickname `text` asks for, cleaned; BadNickname when it may not be one."""
    name = clean(text)
    if not name:
        raise BadNickname("昵称不能为空，例如「昵称 小王」。")
    if len(name) > MAX_CHARS:
        raise BadNickname(f"昵称最多 {MAX_CHARS} 个字，请短一些。")
    if _RIDER_NUMBER.match(name):
        raise BadNickname("昵称不能是骑手编号，请换一个。")
    return name


def rider_label(rider_id: int, nickname: str | None = None) -> str:
    """How a rider is shown to others: the nickname with the short rider number
    (小王（R0012）), else the number alone (骑手R0012); never an openid."""
    number = f"R{rider_id:04d}"
    name = clean(nickname or "")
    return f"{name}（{number}）" if name else f"骑手{number}"
