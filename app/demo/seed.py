"""Bundled demo data: a district of 16 grids with staff bound to every level."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services.directory import people
from app.services.directory.grids import import_geojson
from models import Area

DISTRICT = Path(__file__).with_name("district.geojson")
STATIONS = Path(__file__).with_name("stations.geojson")
"""Rest stations (暖新驿站) in and around the demo district."""

WORKER_NAMES = [
    "张伟",
    "王芳",
    "李娜",
    "刘洋",
    "陈静",
    "杨磊",
    "赵敏",
    "黄强",
    "周婷",
    "吴军",
    "徐丽",
    "孙浩",
    "胡燕",
    "朱明",
    "高峰",
    "林雪",
]
LEAD_NAMES = ["马书记", "郑书记", "何书记", "罗书记"]
DEPARTMENTS = [("dept-1", "区排水所"), ("dept-2", "区绿化市容局")]
"""City departments a lead can summon (吹哨); each liaison's name is the department's."""
STREET_NAMES = ["梁主任", "宋主任"]

TOUR = """
Try it — in another terminal, play a rider:

  uv run gridbot chat --as rider-1 --url {url}

  /loc 31.1904 121.4372 枫林路与东安路口     (GCJ-02, as WeChat sends it)
  路口积水很深，电动车过不去
  我的上报

…and, in a third terminal, 张伟, the worker of 枫苑一网格 who receives it
(the demo's grid workers are worker-1 … worker-16, leads lead-1 … lead-4):

  uv run gridbot chat --as worker-1 --url {url}
  认领        then   办结 <号> 积水已排除

Back as rider-1: 满意.   Everything: uv run gridbot tickets list
"""


def seed(session: Session) -> bool:
    """Load the demo district and staff once; False when they are already there."""
    if session.scalar(select(func.count(Area.id))):
        return False
    collection = json.loads(DISTRICT.read_text(encoding="utf-8"))
    import_geojson(session, collection)
    levels: dict[str, list[str]] = {}
    for feature in collection["features"]:
        props = feature["properties"]
        levels.setdefault(props["level"], []).append(props["code"])
    # level -> (role, names, openid prefix): worker-1 is the first grid's worker, and so on.
    staffing = {
        "grid": ("grid_worker", WORKER_NAMES, "worker-"),
        "community": ("community_lead", LEAD_NAMES, "lead-"),
        "street": ("street_lead", STREET_NAMES, "street-"),
        "district": ("supervisor", ["区城运中心"], "supervisor-"),
    }
    for level, (role, names, prefix) in staffing.items():
        for i, code in enumerate(levels.get(level, []), start=1):
            people.add_staff(
                session,
                name=names[(i - 1) % len(names)],
                role=role,
                area_code=code,
                openid="supervisor" if level == "district" else f"{prefix}{i}",
            )
    for openid, name in DEPARTMENTS:
        people.add_staff(
            session, name=name, role="department", area_code=levels["district"][0], openid=openid
        )
    seed_stations(session)
    return True


def seed_stations(session: Session) -> None:
    from datetime import UTC, datetime

    from app.services.riders.station_import import import_stations, parse_file

    rows = parse_file(STATIONS.read_bytes(), STATIONS.name)
    import_stations(session, rows, now=datetime.now(UTC))
