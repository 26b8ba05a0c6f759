"""Importing areas from GeoJSON: all or nothing, re-import updates in place."""

import copy
import json

import pytest
from sqlalchemy import func, select

from app.db import unit_of_work
from app.demo.seed import DISTRICT
from app.services.grids import GridImportError, GridLocator, import_geojson
from models import Area

COLLECTION = json.loads(DISTRICT.read_text(encoding="utf-8"))


def _count(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Area.id)))


def test_import_builds_the_tree_and_reimport_updates_in_place(sessions):
    with unit_of_work(sessions) as s:
        first = import_geojson(s, COLLECTION)
    assert (first.created, first.updated) == (23, 0)
    renamed = copy.deepcopy(COLLECTION)
    grid = next(f for f in renamed["features"] if f["properties"]["level"] == "grid")
    grid["properties"]["name"] = "改名网格"
    with unit_of_work(sessions) as s:
        second = import_geojson(s, renamed)
    assert (second.created, second.updated) == (0, 23)
    with sessions() as s:
        area = s.scalars(select(Area).where(Area.code == grid["properties"]["code"])).one()
        assert area.name == "改名网格"
        assert area.path == "/310199/310199001/310199001001/31019900100101/"
        assert area.parent.parent.parent.code == "310199"
    assert _count(sessions) == 23


def _broken(mutate):
    data = copy.deepcopy(COLLECTION)
    mutate(data["features"])
    return data


BAD = [
    ("缺少 code", lambda fs: fs[-1]["properties"].pop("code")),
    ("code 重复", lambda fs: fs[-1]["properties"].update(code=fs[-2]["properties"]["code"])),
    ("level", lambda fs: fs[-1]["properties"].update(level="village")),
    ("上级", lambda fs: fs[-1]["properties"].update(parent_code="nope")),
    ("网格必须有多边形", lambda fs: fs[-1].update(geometry=None)),
    ("Polygon", lambda fs: fs[-1].update(geometry={"type": "Point", "coordinates": [121, 31]})),
    (
        "几何无效",
        lambda fs: fs[-1].update(
            geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
        ),
    ),
]


@pytest.mark.parametrize(("reason", "mutate"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_whole_naming_the_feature(sessions, reason, mutate):
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, _broken(mutate))
    assert reason in err.value.message
    assert "第 23 个要素" in err.value.message
    assert _count(sessions) == 0


def test_not_a_feature_collection_is_refused(sessions):
    with pytest.raises(GridImportError), unit_of_work(sessions) as s:
        import_geojson(s, {"type": "Feature"})


def test_the_locator_sees_a_reimport_without_a_restart(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    locator = GridLocator(max_nearest_m=0)
    with sessions() as s:
        assert locator.place(s, 31.19225, 121.432625).grid.code == "31019900100101"
    moved = copy.deepcopy(COLLECTION)
    for f in moved["features"]:
        if f["properties"]["code"] == "31019900100101":
            f["properties"]["code"] = "31019900100199"
    with unit_of_work(sessions) as s:
        import_geojson(s, moved)
    with sessions() as s:
        assert locator.place(s, 31.19225, 121.432625).grid.code in {
            "31019900100101",
            "31019900100199",
        }
        assert locator.place(s, 31.19225, 121.432625).grid.name == "枫苑一网格"


def test_the_locator_sees_another_process_change_the_areas_within_a_second(sessions, monkeypatch):
    import app.services.grids as grids

    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    clock = [1000.0]
    monkeypatch.setattr(grids.time, "monotonic", lambda: clock[0])
    locator = GridLocator(max_nearest_m=0)
    point = (31.19225, 121.432625)
    with sessions() as s:
        assert locator.place(s, *point).grid.code == "31019900100101"
    # Another process takes the grid's polygon away (no import in this process).
    with unit_of_work(sessions) as s:
        area = s.scalars(select(Area).where(Area.code == "31019900100101")).one()
        area.geometry = None
    with sessions() as s:
        clock[0] += 0.5  # within the interval: the index in memory answers, no query
        assert locator.place(s, *point).grid.code == "31019900100101"
        clock[0] += 0.6
        placed = locator.place(s, *point)
    assert placed.grid is None or placed.grid.code != "31019900100101"
