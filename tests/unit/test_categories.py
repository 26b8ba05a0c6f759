import pytest

from app.domain.categories import MAJOR_CLASSES, Category, classify

C = Category


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # flooding
        ("中山路和虹桥路路口积水很深，电动车过不去", C.FLOODING),
        ("地库入口被水淹了，车都开不出来", C.FLOODING),
        ("下大雨小区门口淹了", C.FLOODING),
        ("隧道里内涝，水已经到膝盖", C.FLOODING),
        ("河水漫水到人行道上了", C.FLOODING),
        # blocked passage
        ("消防通道被废弃沙发堵住了", C.BLOCKED_PASSAGE),  # 消防通道+堵住 (6) > 沙发 (2)
        ("小区后门被三轮车堵住，送不进去", C.BLOCKED_PASSAGE),
        ("商户占道经营，人行道走不了", C.BLOCKED_PASSAGE),
        ("楼道里堆满杂物，通道堵塞", C.BLOCKED_PASSAGE),
        ("路边停车挡住了单元门", C.BLOCKED_PASSAGE),
        # bulky waste
        ("楼下扔了一个旧床垫好几天了", C.BULKY_WASTE),
        ("绿化带里有人乱扔建筑垃圾", C.BULKY_WASTE),
        ("垃圾房旁边堆了废弃家具", C.BULKY_WASTE),
        ("路口有大件垃圾没人清理", C.BULKY_WASTE),
        ("楼道口堆了很多旧家具", C.BULKY_WASTE),
        ("小区门口堆了一堆装修垃圾", C.BULKY_WASTE),
        # road damage
        ("非机动车道路面破损，骑车很颠", C.ROAD_DAMAGE),
        ("路中间有个大坑，晚上看不见", C.ROAD_DAMAGE),
        ("人行道塌陷了一块", C.ROAD_DAMAGE),
        ("桥面有很长一条裂缝", C.ROAD_DAMAGE),
        # manhole cover: the specific object beats the generic damage
        ("井盖丢了路面有坑", C.MANHOLE_COVER),
        ("路口井盖松动，车一压就响", C.MANHOLE_COVER),
        ("积水很深，井盖被冲开了", C.MANHOLE_COVER),  # tie 2:2, 井盖 ranks first
        # street light
        ("这条小路的路灯坏了一排", C.STREET_LIGHT),
        ("弄堂里灯不亮，晚上送餐很黑", C.STREET_LIGHT),
        ("路灯不亮", C.STREET_LIGHT),
        # traffic signal
        ("十字路口红绿灯不亮了", C.TRAFFIC_SIGNAL),  # 红绿灯 vs 灯不亮 tie, signal ranks first
        ("信号灯一直闪黄灯", C.TRAFFIC_SIGNAL),
        # fallen tree
        ("台风把树吹倒了，树倒在马路上", C.FALLEN_TREE),
        ("路边倒树压住了电瓶车", C.FALLEN_TREE),
        ("大风刮断的树枝挡住了路", C.FALLEN_TREE),  # tie 2:2 with 挡住, tree ranks first
        # safety hazard
        ("电线垂下来快碰到头了，很危险", C.SAFETY_HAZARD),
        ("充电桩漏电，有安全隐患", C.SAFETY_HAZARD),
        # English
        ("Flooded underpass near the metro", C.FLOODING),
        ("manhole cover missing", C.MANHOLE_COVER),
        ("Streetlight out on the corner", C.STREET_LIGHT),
        # nothing recognisable
        ("你好", C.OTHER),
        ("外卖柜坏了扫不开", C.OTHER),
        ("", C.OTHER),
    ],
)
def test_classify(text, expected):
    assert classify(text) is expected


def test_classify_ignores_case():
    assert classify("MANHOLE") is C.MANHOLE_COVER


@pytest.mark.parametrize(
    ("category", "label", "major_class"),
    [
        (C.FLOODING, "道路积水", "突发事件"),
        (C.BLOCKED_PASSAGE, "通道堵塞", "街面秩序"),
        (C.BULKY_WASTE, "大件垃圾", "市容环境"),
        (C.ROAD_DAMAGE, "路面破损", "道路交通"),
        (C.MANHOLE_COVER, "井盖问题", "公用设施"),
        (C.STREET_LIGHT, "路灯故障", "公用设施"),
        (C.FALLEN_TREE, "树木倒伏", "园林绿化"),
        (C.TRAFFIC_SIGNAL, "信号灯故障", "道路交通"),
        (C.SAFETY_HAZARD, "安全隐患", "突发事件"),
        (C.OTHER, "其他问题", "其他"),
    ],
)
def test_catalogue(category, label, major_class):
    assert category.label == label
    assert category.major_class == major_class
    assert category.major_class in MAJOR_CLASSES


def test_values_are_stable_strings():
    assert [c.value for c in Category] == [
        "flooding",
        "blocked_passage",
        "bulky_waste",
        "road_damage",
        "manhole_cover",
        "street_light",
        "fallen_tree",
        "traffic_signal",
        "safety_hazard",
        "other",
    ]
    assert Category("flooding") is C.FLOODING
