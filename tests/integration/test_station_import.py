"""`gridbot stations import`: GeoJSON or CSV, refused whole when bad, updated in place."""

import json

import pytest
from sqlalchemy import select

from app.db import make_engine, make_sessionmaker
from app.demo.seed import STATIONS
from app.migrate import upgrade
from models import Station


def stations(db_url) -> dict[str, Station]:
    upgrade(db_url)  # a refused import never touched the database
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as s:
            return {st.code: st for st in s.scalars(select(Station))}
    finally:
        engine.dispose()


def feature(**props):
    lng, lat = props.pop("at", (121.44, 31.2))
    base = {"name": "试点驿站", "hours": "08:00-22:00", "amenities": ["饮水"]}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lng, lat]},
        "properties": {**base, **props},
    }


def write(tmp_path, name, features):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_geojson_import_then_reimport_updates_in_place(cli, db_url, tmp_path):
    assert "6 created, 0 updated" in cli("stations", "import", str(STATIONS)).output
    changed = json.loads(STATIONS.read_text("utf-8"))
    changed["features"][0]["properties"]["hours"] = "24h"
    path = tmp_path / "changed.geojson"
    path.write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
    assert "0 created, 6 updated" in cli("stations", "import", str(path)).output
    found = stations(db_url)
    assert len(found) == 6 and found["FL01"].hours == "24h"
    listing = json.loads(cli("stations", "list", "--json").stdout)
    assert listing[0]["code"] == "DA02" and "充电" in listing[0]["amenities"]


def test_csv_import_and_the_name_is_the_code_when_absent(cli, db_url, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text(
        "name,address,hours,amenities,lat,lng,phone\n"
        '南园驿站,南园路1号,"07:00-11:00,17:00-21:00",饮水 雨伞,31.2,121.44,021-1\n',
        "utf-8",
    )
    assert "1 created" in cli("stations", "import", str(path)).output
    st = stations(db_url)["南园驿站"]
    assert (st.hours, st.amenities, st.phone, st.lat) == (
        "07:00-11:00,17:00-21:00",
        "饮水 雨伞",
        "021-1",
        31.2,
    )


@pytest.mark.parametrize(
    ("features", "says"),
    [
        ([feature(hours="早八晚十")], "第 2 个要素（试点驿站）：营业时间「早八晚十」看不懂"),
        ([feature(amenities=["饮水", "洗衣机"])], "设施「洗衣机」不在清单内"),
        ([feature(at=(121.44, 95))], "纬度 95 超出范围"),
        ([feature(code="A"), feature(code="A")], "编码「A」与第 2 个要素重复"),
        ([{"type": "Feature", "geometry": None, "properties": {"name": "x"}}], "几何应是 Point"),
        ([feature(name="")], "缺少 name"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_reason(cli, db_url, tmp_path, features, says):
    path = write(tmp_path, "bad.geojson", [feature(code="OK"), *features])
    result = cli("stations", "import", str(path), ok=False)
    assert result.exit_code == 1
    assert "refused, nothing imported" in result.output and says in result.output
    assert "Traceback" not in result.output
    assert stations(db_url) == {}


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("s.txt", "", "只接受 .geojson 或 .csv"),
        ("s.geojson", "{not json", "不是有效的 JSON"),
        ("s.geojson", '{"type": "Feature"}', "应是 FeatureCollection"),
        ("s.csv", "name,hours\n", "CSV 缺少列：address, amenities, lat, lng"),
        (
            "s.csv",
            "name,address,hours,amenities,lat,lng\n甲,,08:00-22:00,饮水,北纬,121\n",
            "第 2 行",
        ),
    ],
)
def test_unreadable_files_are_refused(cli, tmp_path, name, content, says):
    path = tmp_path / name
    path.write_text(content, "utf-8")
    result = cli("stations", "import", str(path), ok=False)
    assert result.exit_code == 1 and says in result.output


def test_a_missing_file_is_one_line(cli, tmp_path):
    result = cli("stations", "import", str(tmp_path / "nope.csv"), ok=False)
    assert result.exit_code == 1 and "cannot read" in result.output
