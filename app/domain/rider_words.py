"""What a rider's words are: part of a report, or something else (a greeting, thanks, an
emoji, a question about the service).

Only a description belongs to a report. The rest is answered and never appended to a
ticket: a worker who reads "谢谢" or "在吗？怎么上报" under a report learns nothing.

`names_another_problem` decides whether words sent soon after a ticket was filed are
more about that ticket or the start of another report ("还有…", "另外…", or words that
name a problem of an unrelated category).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from app.domain.categories import Category, classify, classify_object
from app.domain.duplicates import compatible


class Gist(StrEnum):
    DESCRIPTION = "description"
    GREETING = "greeting"
    THANKS = "thanks"
    ACKNOWLEDGEMENT = "acknowledgement"
    """好的, 收到, 嗯: the rider heard the last answer."""
    EMOJI = "emoji"
    """Only emoji, WeChat emoticons ("[微笑]") or punctuation."""
    QUESTION = "question"
    """A question about the service ("怎么上报", "多久处理"), not a description."""
    UNREADABLE = "unreadable"
    """No Chinese word at all and nothing else known: "asdfgh", "123", "??ok"."""


GREETINGS = frozenset(
    {
        "你好",
        "您好",
        "你好啊",
        "您好啊",
        "你们好",
        "大家好",
        "哈喽",
        "哈罗",
        "嗨",
        "喂",
        "在吗",
        "你在吗",
        "您在吗",
        "在不在",
        "有人吗",
        "有人在吗",
        "早",
        "早上好",
        "上午好",
        "中午好",
        "下午好",
        "晚上好",
        "hi",
        "hello",
        "hey",
    }
)
THANKS = frozenset(
    {
        "谢谢",
        "谢谢你",
        "谢谢您",
        "谢谢你们",
        "谢了",
        "多谢",
        "感谢",
        "非常感谢",
        "辛苦了",
        "辛苦",
        "辛苦你们了",
        "麻烦了",
        "麻烦你们了",
        "thanks",
        "thank you",
        "thx",
    }
)
ACKNOWLEDGEMENTS = frozenset(
    {
        "好",
        "好的",
        "好滴",
        "好吧",
        "行",
        "行的",
        "可以",
        "嗯",
        "嗯嗯",
        "哦",
        "噢",
        "收到",
        "知道了",
        "明白",
        "明白了",
        "了解",
        "没问题",
        "ok",
        "okay",
    }
)
QUESTION_PHRASES = (
    "怎么上报",
    "如何上报",
    "怎样上报",
    "怎么报",
    "怎么用",
    "如何使用",
    "怎么使用",
    "怎么发",
    "怎么操作",
    "怎么弄",
    "怎么发送",
    "发什么",
    "要发什么",
    "什么时候处理",
    "多久处理",
    "多久能",
    "处理了吗",
    "有人管吗",
    "有人处理吗",
    "能处理吗",
    "有用吗",
    "进度",
    "你是谁",
    "你们是谁",
    "是干什么的",
    "干什么的",
    "是什么",
    # The wish to report, not yet the report: answered with how to do it.
    "我要上报",
    "我想上报",
    "要上报",
    "想上报",
    "上报问题",
    "反映问题",
    "反映个问题",
    "反映一个问题",
)
NEW_PROBLEM = re.compile(
    r"^(还有|另外|另一个|另一处|另有|此外|再报|再上报|再反映|再说一个|前面还有|后面还有|"
    r"旁边还有|对面还有|那边还有|这边还有|隔壁还有)"
)
"""Words that open another report ("还有一处井盖没了", "另外…")."""

_EMOTICON = re.compile(r"\[[^\[\]\s]{1,4}\]|/:[^\s]{1,6}")
"""WeChat's emoticons as they arrive in text: "[微笑]", "[强]", "/::)"."""
_PARTS = re.compile(r"[\s,，.。!！?？~～、;；:…·\-—]+")


def _is_decoration(ch: str) -> bool:
    """Emoji, symbols, punctuation and the joiners emoji are built with."""
    if ch in "\u200d\ufe0f\ufe0e":
        return True
    kind = unicodedata.category(ch)
    return kind[0] in "PSZ" or (kind in ("Cf", "Sk", "Mn") and not ch.isalnum())


def gist(text: str) -> Gist:
    """What these words are (see the module docstring); a description unless they are
    plainly something else."""
    plain = _EMOTICON.sub(" ", text)
    parts = [p.lower() for p in _PARTS.split(plain) if p]
    parts = [p for p in ("".join(c for c in p if not _is_decoration(c)) for p in parts) if p]
    if not parts:
        return Gist.EMOJI
    if classify(text) is not Category.OTHER:
        return Gist.DESCRIPTION
    joined = "".join(parts)
    if any(phrase in joined for phrase in QUESTION_PHRASES):
        return Gist.QUESTION
    if " ".join(parts) in THANKS:  # "thank you"
        return Gist.THANKS
    kinds = set()
    for part in parts:
        if part in GREETINGS:
            kinds.add(Gist.GREETING)
        elif part in THANKS:
            kinds.add(Gist.THANKS)
        elif part in ACKNOWLEDGEMENTS:
            kinds.add(Gist.ACKNOWLEDGEMENT)
        else:
            return Gist.DESCRIPTION if _has_chinese(joined) else Gist.UNREADABLE
    # "好的，谢谢" is thanks; "你好，谢谢" too: the most telling kind answers.
    for kind in (Gist.THANKS, Gist.GREETING, Gist.ACKNOWLEDGEMENT):
        if kind in kinds:
            return kind
    return Gist.DESCRIPTION  # pragma: no cover - every part was one of the kinds above


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def opens_another_report(text: str) -> bool:
    """Words that start with "还有", "另外" … : the rider is reporting something else."""
    return NEW_PROBLEM.match(text.strip()) is not None


def names_another_problem(ticket_category: str, text: str) -> bool:
    """Words sent after a ticket was filed that are about a different problem: they open
    with "还有"/"另外" …, or name a problem unrelated to the ticket's category. A ticket
    filed without words (其他问题) takes whatever problem the words name."""
    if opens_another_report(text):
        return True
    if ticket_category == Category.OTHER.value:
        return False
    named = classify_object(text)
    return named is not Category.OTHER and not compatible(ticket_category, named.value)
