"""What a worker's 退回 means: not valid (may be closed) or not ours (stays open)."""

import pytest

from app.domain.send_back import ReturnKind, read

V, NO = ReturnKind.NOT_VALID, ReturnKind.NOT_OURS


@pytest.mark.parametrize(
    ("reason", "kind", "why"),
    [
        ("无效 现场无积水", V, "现场无积水"),
        ("无效：重复上报", V, "重复上报"),
        ("转办 属于小区物业", NO, "属于小区物业"),
        ("属于小区物业内部管网", NO, "属于小区物业内部管网"),
        ("不归我们网格管", NO, "不归我们网格管"),
        ("现场未发现积水，系误报", V, "现场未发现积水，系误报"),
        ("今天忙不过来", None, "今天忙不过来"),
        ("物业说没有问题", None, "物业说没有问题"),  # both kinds of words: ask
    ],
)
def test_the_kind_of_a_send_back_is_read_from_the_reason(reason, kind, why):
    assert read(reason) == (kind, why)
