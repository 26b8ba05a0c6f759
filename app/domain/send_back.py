"""退回: a holder sends a ticket back either as not valid (no such problem: the level above
may close it as rejected) or as not theirs (a real problem for someone else: it stays open
and the level above transfers it or summons a department; it is never closed for that).

What the holder means is read from their words: a leading 无效 or 转办 says it outright,
else the reason's words decide, else the holder is asked.
"""

from __future__ import annotations

from enum import StrEnum


class ReturnKind(StrEnum):
    NOT_VALID = "not_valid"
    NOT_OURS = "not_ours"


EXPLICIT = {
    "无效": ReturnKind.NOT_VALID,
    "不属实": ReturnKind.NOT_VALID,
    "转办": ReturnKind.NOT_OURS,
    "非本网格": ReturnKind.NOT_OURS,
}

NOT_OURS_WORDS = (
    "不归",
    "不属于",
    "属于",
    "非本",
    "其他部门",
    "别的部门",
    "相关部门",
    "物业",
    "不在本网格",
    "不在我",
    "不是我",
    "管辖",
    "职责",
    "应由",
    "转给",
    "产权",
)
NOT_VALID_WORDS = (
    "不存在",
    "无此",
    "没有发现",
    "未发现",
    "没有问题",
    "无问题",
    "已恢复",
    "已处理好",
    "误报",
    "虚假",
    "重复",
    "恶作剧",
    "测试",
    "无积水",
    "未见",
)


def read(reason: str) -> tuple[ReturnKind | None, str]:
    """(what the holder means, the reason without a leading 无效/转办); None when unclear."""
    text = reason.strip()
    for word, kind in EXPLICIT.items():
        if text.startswith(word):
            rest = text[len(word) :].lstrip(" ：:，,")
            return kind, rest or text
    ours = any(w in text for w in NOT_OURS_WORDS)
    valid = any(w in text for w in NOT_VALID_WORDS)
    if ours and not valid:
        return ReturnKind.NOT_OURS, text
    if valid and not ours:
        return ReturnKind.NOT_VALID, text
    return None, text
