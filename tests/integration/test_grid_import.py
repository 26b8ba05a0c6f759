"""Importing areas from GeoJSON: all or nothing, re-import updates in place."""

import copy
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import app
from app.db import unit_of_work
from app.demo.seed import DISTRICT
from app.services.directory.grid_geojson import ImportLimits
from app.services.directory.grids import GridImportError, GridLocator, import_geojson
from app.settings import get_settings
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
    import app.services.directory.grids as grids

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


# Issue 15 item 1: re-importing grids keeps authorization right.


def _areas(sessions) -> dict[str, Area]:
    with sessions() as s:
        areas = {a.code: a for a in s.scalars(select(Area))}
        for a in areas.values():
            s.expunge(a)
        return areas


def _feature(code: str) -> dict:
    return copy.deepcopy(next(f for f in COLLECTION["features"] if f["properties"]["code"] == code))


def _only(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def test_reimporting_grids_keeps_authorization_right_when_a_community_moves(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    community = _feature("310199001001")  # 枫苑社区, under 枫林街道 with four grids
    community["properties"]["parent_code"] = "310199002"  # now under 湖南路街道
    with unit_of_work(sessions) as s:
        result = import_geojson(s, _only(community))
    assert (result.created, result.updated, result.moved) == (0, 1, 4)
    areas = _areas(sessions)
    grid = areas["31019900100101"]
    assert grid.path == "/310199/310199002/310199001001/31019900100101/"
    # The street that now holds the community covers its grids; the old one no longer does.
    assert areas["310199002"].covers(grid)
    assert not areas["310199001"].covers(grid)
    assert areas["310199"].covers(grid)


def test_reimporting_grids_keeps_authorization_right_when_a_street_is_promoted(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    street = _feature("310199001")
    street["properties"].update(level="district", parent_code=None)
    with unit_of_work(sessions) as s:
        result = import_geojson(s, _only(street))
    assert result.moved == 10  # two communities, eight grids
    areas = _areas(sessions)
    assert areas["31019900100204"].path == "/310199001/310199001002/31019900100204/"
    assert not areas["310199"].covers(areas["31019900100204"])
    assert areas["310199001"].covers(areas["31019900100204"])


def test_reimporting_grids_refuses_demoting_an_area_that_has_children(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    community = _feature("310199001001")
    community["properties"]["level"] = "grid"
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, _only(community))
    assert "还有 4 个下级" in err.value.message and "不能降为 grid" in err.value.message
    assert _areas(sessions)["310199001001"].level == "community"


def test_reimporting_grids_may_demote_an_area_whose_children_move_in_the_same_file(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    community = _feature("310199001001")
    community["properties"]["level"] = "grid"
    grids = [_feature(f"3101990010010{n}") for n in (1, 2, 3, 4)]
    for g in grids:
        g["properties"]["parent_code"] = "310199001002"
    with unit_of_work(sessions) as s:
        import_geojson(s, _only(community, *grids))
    areas = _areas(sessions)
    assert areas["310199001001"].level == "grid"
    assert areas["31019900100101"].path == "/310199/310199001/310199001002/31019900100101/"


def test_reimporting_grids_refuses_a_grid_as_a_parent(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, COLLECTION)
    grid = _feature("31019900100102")
    grid["properties"]["parent_code"] = "31019900100101"
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, _only(grid))
    assert "上级 31019900100101 是网格，网格不能有下级" in err.value.message


def test_reimporting_grids_refuses_a_code_holding_the_path_separator(sessions):
    grid = _feature("31019900100101")
    grid["properties"].update(code="3101/99", parent_code="310199")
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, _only(_feature("310199"), grid))
    assert "code 不能包含“/”" in err.value.message
    assert _count(sessions) == 0


# Issue 15 item 10: `grids import` caps size, features and vertices; every malformed
# structure is refused whole, never a traceback.


def _square(n: int) -> dict:
    """A valid polygon with about n vertices (a square with points along its edges)."""
    side = max(1, n // 4)
    x0, y0, d = 121.40, 31.18, 0.01
    ring = (
        [[x0 + d * i / side, y0] for i in range(side)]
        + [[x0 + d, y0 + d * i / side] for i in range(side)]
        + [[x0 + d - d * i / side, y0 + d] for i in range(side)]
        + [[x0, y0 + d - d * i / side] for i in range(side)]
    )
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _district_with(geometry=None, **props) -> dict:
    feature = _feature("310199")
    feature["properties"].update(props)
    if geometry is not None:
        feature["geometry"] = geometry
    return _only(feature)


MALFORMED = [
    ("不是 JSON 对象", _only("not a feature")),
    ("properties 不是 JSON 对象", _only({"type": "Feature", "properties": [1, 2]})),
    ("code 过长", _district_with(code="3" * 65)),
    ("name 过长", _district_with(name="区" * 129)),
    ("code 必须是文字", _district_with(code={"a": 1})),
    ("name 必须是文字", _district_with(name=["示范区"])),
    ("level 必须是", _district_with(level=["district"])),
    ("parent_code 过长", _district_with(parent_code="9" * 65)),
    ("几何必须是", _district_with(geometry="POLYGON((0 0,1 1))")),
    ("坐标结构不对", _district_with(geometry={"type": "Polygon", "coordinates": 5})),
    (
        "坐标结构不对",
        _district_with(geometry={"type": "Polygon", "coordinates": [[[[[[121, 31]]]]]]}),
    ),
    (
        "坐标结构不对",
        _district_with(
            geometry={"type": "MultiPolygon", "coordinates": [[[["a", 31]] * 4]]},
        ),
    ),
    ("要素过多", _only(*[_feature("310199")] * 11)),
    ("多边形顶点过多", _district_with(geometry=_square(2000))),
]

SMALL = ImportLimits(max_bytes=1024 * 1024, max_features=10, max_vertices=1000)


@pytest.mark.parametrize(("reason", "collection"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_grids_import_refuses_every_malformed_structure_whole(sessions, reason, collection):
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, collection, SMALL)
    assert reason in err.value.message
    assert _count(sessions) == 0


def test_grids_import_refuses_a_huge_polygon_by_default(sessions):
    with pytest.raises(GridImportError) as err, unit_of_work(sessions) as s:
        import_geojson(s, _district_with(geometry=_square(200_000)))
    assert "多边形顶点过多（超过上限 50000 个）" in err.value.message


def test_grids_import_takes_a_polygon_within_the_vertex_cap(sessions):
    with unit_of_work(sessions) as s:
        import_geojson(s, _district_with(geometry=_square(996)), SMALL)
    assert _count(sessions) == 1


@pytest.fixture
def grids_cli(db_url, sessions, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRIDBOT_GRID_IMPORT_MAX_BYTES", "2000000")
    monkeypatch.setenv("GRIDBOT_GRID_IMPORT_MAX_VERTICES", "1000")
    get_settings.cache_clear()

    def run(content: str | bytes):
        path = tmp_path / "areas.geojson"
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return CliRunner().invoke(app, ["grids", "import", str(path)])

    yield run
    get_settings.cache_clear()


CLI_REFUSALS = [
    ("文件过大（上限 2 MB）", json.dumps(COLLECTION) + " " * 2_000_000),
    ("嵌套过深", "[" * 100_000 + "]" * 100_000),
    ("不是有效的 JSON", '{"type": "FeatureCollection", "features": [}'),
    ("不是有效的 JSON", b"\xff\xfe{"),
    ("多边形顶点过多", json.dumps(_district_with(geometry=_square(20_000)))),
    ("不是 JSON 对象", json.dumps(_only(17))),
]


@pytest.mark.parametrize(("reason", "content"), CLI_REFUSALS, ids=[c[0] for c in CLI_REFUSALS])
def test_grids_import_answers_a_hostile_file_with_one_line(grids_cli, sessions, reason, content):
    result = grids_cli(content)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith("refused, nothing imported: ")
    assert reason in result.output and len(result.output.splitlines()) == 1
    assert _count(sessions) == 0


def test_grids_import_says_how_many_areas_moved_with_their_parent(grids_cli, sessions):
    assert "23 created" in grids_cli(json.dumps(COLLECTION)).output
    community = _feature("310199001001")
    community["properties"]["parent_code"] = "310199002"
    result = grids_cli(json.dumps(_only(community)))
    assert "0 created, 1 updated, 4 moved with their parent" in result.output
