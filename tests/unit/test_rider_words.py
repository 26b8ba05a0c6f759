import pytest

from app.domain.categories import Category, classify_object
from app.domain.rider_words import Gist, gist, names_another_problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", Gist.GREETING),
        ("您好！", Gist.GREETING),
        ("在吗", Gist.GREETING),
        ("hi", Gist.GREETING),
        ("谢谢", Gist.THANKS),
        ("好的，谢谢！", Gist.THANKS),
        ("辛苦了", Gist.THANKS),
        ("你好，谢谢", Gist.THANKS),
        ("好的", Gist.ACKNOWLEDGEMENT),
        ("嗯嗯", Gist.ACKNOWLEDGEMENT),
        ("OK", Gist.ACKNOWLEDGEMENT),
        ("[微笑]", Gist.EMOJI),
        ("👍👍", Gist.EMOJI),
        ("🙏🏻", Gist.EMOJI),
        ("……", Gist.EMOJI),
        ("/::)", Gist.EMOJI),
        ("在吗？怎么上报", Gist.QUESTION),
        ("多久能处理？", Gist.QUESTION),
        ("你好，我要上报", Gist.QUESTION),
        # Descriptions, even polite or asking ones
        ("你好，井盖没了", Gist.DESCRIPTION),
        ("路口积水很深有人管吗？", Gist.DESCRIPTION),
        ("外卖柜坏了扫不开", Gist.DESCRIPTION),
        ("好大一个坑[捂脸]", Gist.DESCRIPTION),
        ("还有一处", Gist.DESCRIPTION),
        ("3号楼门口堆满了", Gist.DESCRIPTION),
        # Keyboard mash, bare numbers and Latin letters a worker could not act on
        ("asdfgh", Gist.UNREADABLE),
        ("123456", Gist.UNREADABLE),
        ("ok asdf", Gist.UNREADABLE),
        ("thank you", Gist.THANKS),
    ],
)
def test_gist(text, expected):
    assert gist(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("很危险", Category.OTHER),
        ("车都堵住了", Category.OTHER),
        ("路面破损", Category.ROAD_DAMAGE),  # the phrase names the thing
        ("破损", Category.OTHER),
        ("电线掉下来了", Category.SAFETY_HAZARD),
        ("旁边路灯也不亮", Category.STREET_LIGHT),
    ],
)
def test_classify_object_ignores_condition_words(text, expected):
    assert classify_object(text) is expected


@pytest.mark.parametrize(
    ("category", "text", "expected"),
    [
        ("manhole_cover", "很危险", False),
        ("manhole_cover", "有个大洞，车都堵住了", False),  # a hole: road damage, related
        ("flooding", "井盖也被冲走了", False),  # related categories
        ("flooding", "旁边路灯也不亮", True),
        ("street_light", "路灯的电线垂下来了", False),
        ("bulky_waste", "还有一个床垫", True),  # "还有" opens another report
        ("other", "井盖没了，有个大洞，很危险", False),  # words classify a wordless report
        ("other", "另外一处积水", True),
    ],
)
def test_names_another_problem(category, text, expected):
    assert names_another_problem(category, text) is expected
