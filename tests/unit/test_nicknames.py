"""Riders' nicknames: what may be one, and how a rider is shown on the boards."""

import pytest

from app.domain.nicknames import BadNickname, clean, nickname, rider_label


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("小王", "小王"),
        ("  小王  ", "小王"),
        ("小\n王\t师傅", "小 王 师傅"),
        ("小\u200b王\u202e", "小王"),  # zero-width space, right-to-left override
        ("\x1b[31m小王\x07", "[31m小王"),  # escape and bell are dropped, the rest is text
        ("Wang  Xiao", "Wang Xiao"),
    ],
)
def test_control_and_invisible_characters_are_removed(typed, kept):
    assert nickname(typed) == kept


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "昵称不能为空"),
        ("\u200b\n", "昵称不能为空"),
        ("一二三四五六七八九十一二三", "昵称最多 12 个字"),
        ("R0012", "不能是骑手编号"),
        ("骑手R0012", "不能是骑手编号"),
        ("骑手 r 12", "不能是骑手编号"),
    ],
)
def test_what_may_not_be_a_nickname_says_why(typed, reason):
    with pytest.raises(BadNickname, match=reason):
        nickname(typed)


def test_twelve_characters_fit():
    assert nickname("一二三四五六七八九十一二") == "一二三四五六七八九十一二"


def test_riders_are_shown_by_nickname_with_their_number_never_an_openid():
    assert rider_label(12) == "骑手R0012"
    assert rider_label(12, "小王") == "小王（R0012）"
    assert rider_label(12, "") == rider_label(12, None) == "骑手R0012"
    assert rider_label(12, "小\u200b王") == "小王（R0012）"
    assert clean("\u3000") == ""  # an ideographic space is whitespace
