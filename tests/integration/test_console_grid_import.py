"""Grid import from the console: upload, each feature's verdict and the map, then apply;
the CLI's validation; district supervisors only."""

from __future__ import annotations

import json

from app.services.directory.grids import area_by_code
from tests.consolekit import sign_in

SQUARE = [[[121.60, 31.30], [121.61, 31.30], [121.61, 31.31], [121.60, 31.31], [121.60, 31.30]]]


def geojson(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def grid(code: str, name: str, parent: str, polygon=SQUARE) -> dict:
    geometry = {"type": "Polygon", "coordinates": polygon} if polygon else None
    properties = {"code": code, "name": name, "level": "grid", "parent_code": parent}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def upload(client, csrf: str, body: bytes):
    files = {"file": ("grids.geojson", body, "application/geo+json")}
    return client.post("/console/admin/grids/preview", data={"csrf": csrf}, files=files)


def exists(sessions, code: str) -> bool:
    with sessions() as s:
        return area_by_code(s, code) is not None


def test_a_previewed_file_is_imported_only_when_applied(client, demo_sessions):
    csrf = sign_in(client, demo_sessions, "supervisor")
    body = geojson(
        grid("31019900100199", "枫苑新网格", "310199001001"),
        grid("31019900100101", "枫苑一网格（新边界）", "310199001001"),
    )
    page = upload(client, csrf, body)
    assert page.status_code == 200
    assert "可以导入：新建 1 个区域，更新 1 个" in page.text
    assert "<td>枫苑新网格</td><td>网格</td><td>新建</td>" in page.text
    assert "<td>更新</td>" in page.text and 'id="preview-map"' in page.text
    assert not exists(demo_sessions, "31019900100199")
    token = page.text.split('name="token" value="')[1].split('"')[0]
    done = client.post("/console/admin/grids/apply", data={"csrf": csrf, "token": token})
    assert "已导入：新建 1 个区域，更新 1 个" in done.text
    assert exists(demo_sessions, "31019900100199")
    again = client.post("/console/admin/grids/apply", data={"csrf": csrf, "token": token})
    assert again.status_code == 400 and "找不到要导入的文件（可能已经导入过）" in again.text


def test_a_file_the_cli_would_refuse_is_refused_with_the_reason(client, demo_sessions):
    csrf = sign_in(client, demo_sessions, "supervisor")
    no_polygon = upload(
        client, csrf, geojson(grid("31019900100198", "无边界", "310199001001", None))
    )
    assert "网格必须有多边形" in no_polygon.text and "确认导入" not in no_polygon.text
    orphan = upload(client, csrf, geojson(grid("31019900100197", "孤儿网格", "999")))
    assert "上级不在您管理的范围内" in orphan.text and "确认导入" not in orphan.text
    broken = upload(client, csrf, b"{not json")
    assert broken.status_code == 400 and "文件不是有效的 JSON" in broken.text
    assert upload(client, csrf, b"").status_code == 400
    forged = client.post("/console/admin/grids/apply", data={"csrf": csrf, "token": "../../etc"})
    assert forged.status_code == 400
    assert not exists(demo_sessions, "31019900100198")


def test_grid_import_is_for_the_district_supervisor_only(client, demo_sessions):
    assert client.get("/console/admin/grids", follow_redirects=False).status_code == 303
    csrf = sign_in(client, demo_sessions, "lead-1")
    assert client.get("/console/admin/grids").status_code == 403
    body = geojson(grid("31019900100196", "越权网格", "310199001001"))
    assert upload(client, csrf, body).status_code == 403
    answer = client.post("/console/admin/grids/apply", data={"csrf": csrf, "token": "x" * 32})
    assert answer.status_code == 403
    assert not exists(demo_sessions, "31019900100196")
