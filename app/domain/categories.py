"""Problem categories and the keyword classifier that guesses one from a rider's words.

The catalogue is one table (`_CATALOGUE`): each category's Chinese label, its major
class in the national digital-city-management standard, its keywords, and its rank
when two categories score the same.

Classification rule (`classify`):

1. Every keyword found in the text (case-insensitive) scores its length in characters
   for its category, each distinct keyword at most once. Longer, more specific phrases
   ("消防通道", "大件垃圾") therefore outweigh short generic ones ("通道", "坑").
2. A hit lying wholly inside a longer hit does not count: "路面破损" does not also score
   "破损", "消防通道" does not also score "通道". Partly overlapping hits both count.
3. The highest score wins. A tie is broken by the fixed `rank` in the table: specific
   objects (井盖, 红绿灯, 路灯, 倒树) beat flooding and road damage, which beat
   generic complaints (堵塞, 垃圾, 隐患). Traffic signals rank above street lights
   so that "红绿灯不亮" (红绿灯 vs 灯不亮, 3 characters each) is a traffic signal.
4. No keyword at all gives `Category.OTHER`.

Some keywords name a condition many problems share rather than a thing ("危险",
"堵住了", "破损"): they count for `classify`, but `classify_object` ignores them. It
answers "which problem do these words name?", so that "很危险" or "车都堵住了" after
a report of a missing manhole cover is read as more about the same problem, while
"旁边路灯也不亮" names another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    FLOODING = "flooding"
    BLOCKED_PASSAGE = "blocked_passage"
    BULKY_WASTE = "bulky_waste"
    ROAD_DAMAGE = "road_damage"
    MANHOLE_COVER = "manhole_cover"
    STREET_LIGHT = "street_light"
    FALLEN_TREE = "fallen_tree"
    TRAFFIC_SIGNAL = "traffic_signal"
    SAFETY_HAZARD = "safety_hazard"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Short Chinese name shown to riders and staff."""
        return _CATALOGUE[self].label

    @property
    def major_class(self) -> str:
        """Major class (大类) in the national digital-city-management standard."""
        return _CATALOGUE[self].major_class

    @property
    def keywords(self) -> tuple[str, ...]:
        return _CATALOGUE[self].keywords


MAJOR_CLASSES = ("市容环境", "街面秩序", "突发事件", "公用设施", "道路交通", "园林绿化", "其他")


@dataclass(frozen=True)
class CategoryInfo:
    label: str
    major_class: str
    rank: int  # lower wins a tie
    keywords: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    """Keywords (also in `keywords`) that describe a state, not a thing."""


_CATALOGUE: dict[Category, CategoryInfo] = {
    Category.MANHOLE_COVER: CategoryInfo(
        "井盖问题",
        "公用设施",
        0,
        ("井盖", "窨井", "下水井", "manhole"),
    ),
    Category.STREET_LIGHT: CategoryInfo(
        "路灯故障",
        "公用设施",
        2,
        ("路灯", "灯不亮", "灯坏了", "streetlight", "street light"),
    ),
    Category.TRAFFIC_SIGNAL: CategoryInfo(
        "信号灯故障",
        "道路交通",
        1,
        ("红绿灯", "信号灯", "traffic light", "traffic signal"),
    ),
    Category.FALLEN_TREE: CategoryInfo(
        "树木倒伏",
        "园林绿化",
        3,
        ("倒树", "树倒", "断枝", "树枝", "大树", "fallen tree", "tree down"),
    ),
    Category.FLOODING: CategoryInfo(
        "道路积水",
        "突发事件",
        4,
        ("积水", "水淹", "淹了", "内涝", "漫水", "被淹", "flood", "waterlog"),
    ),
    Category.ROAD_DAMAGE: CategoryInfo(
        "路面破损",
        "道路交通",
        5,
        ("路面破损", "坑", "大洞", "窟窿", "塌陷", "裂缝", "破损", "pothole"),
        ("破损",),
    ),
    Category.BLOCKED_PASSAGE: CategoryInfo(
        "通道堵塞",
        "街面秩序",
        6,
        (
            "消防通道",
            "占道",
            "堵塞",
            "堵住",
            "堵了",
            "通道",
            "挡住",
            "blocked",
            "obstruct",
        ),
        ("堵塞", "堵住", "堵了", "挡住", "blocked", "obstruct"),
    ),
    Category.BULKY_WASTE: CategoryInfo(
        "大件垃圾",
        "市容环境",
        7,
        (
            "废弃家具",
            "旧家具",
            "家具",
            "大件垃圾",
            "装修垃圾",
            "垃圾",
            "杂物",
            "沙发",
            "床垫",
            "柜子",
            "乱扔",
            "garbage",
            "rubbish",
            "trash",
        ),
    ),
    Category.SAFETY_HAZARD: CategoryInfo(
        "安全隐患",
        "突发事件",
        8,
        ("隐患", "危险", "漏电", "电线", "hazard", "danger"),
        ("隐患", "危险", "hazard", "danger"),
    ),
    Category.OTHER: CategoryInfo("其他问题", "其他", 9, ()),
}

URGENT = frozenset(
    {Category.FLOODING, Category.FALLEN_TREE, Category.MANHOLE_COVER, Category.SAFETY_HAZARD}
)
"""Problems that endanger people at once: marked 【紧急】 (the policy runs them on the clock)."""

_KEYWORDS: tuple[tuple[str, Category], ...] = tuple(
    (kw.lower(), cat) for cat, info in _CATALOGUE.items() for kw in info.keywords
)
_OBJECT_KEYWORDS: tuple[tuple[str, Category], ...] = tuple(
    (kw.lower(), cat)
    for cat, info in _CATALOGUE.items()
    for kw in info.keywords
    if kw not in info.conditions
)


def category_label(value: str) -> str:
    """The Chinese name of a stored category; an unknown value is shown as it is."""
    try:
        return Category(value).label
    except ValueError:
        return value


def classify(text: str) -> Category:
    """The category a free-text report most likely belongs to (see the module docstring)."""
    return _best(text, _KEYWORDS)


def classify_object(text: str) -> Category:
    """The problem these words name, condition words ignored; `Category.OTHER` when they
    name none ("很危险", "车都堵住了")."""
    return _best(text, _OBJECT_KEYWORDS)


def _best(text: str, keywords: tuple[tuple[str, Category], ...]) -> Category:
    haystack = text.lower()
    hits: list[tuple[int, int, str, Category]] = []
    for keyword, category in keywords:
        start = haystack.find(keyword)
        while start != -1:
            hits.append((start, start + len(keyword), keyword, category))
            start = haystack.find(keyword, start + 1)
    counted: set[tuple[str, Category]] = set()
    for start, end, keyword, category in hits:
        shadowed = any(s <= start and end <= e and (e - s) > (end - start) for s, e, _, _ in hits)
        if not shadowed:
            counted.add((keyword, category))
    if not counted:
        return Category.OTHER
    scores: dict[Category, int] = {}
    for keyword, category in counted:
        scores[category] = scores.get(category, 0) + len(keyword)
    return min(scores, key=lambda cat: (-scores[cat], _CATALOGUE[cat].rank))
