"""Open311 discovery and services, as a GeoReport v2 client reads them (JSON and XML)."""

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli_app
from app.services.directory import api_keys
from app.settings import Settings, get_settings
from app.web.main import create_app
from models import ApiClient
from tests.open311kit import Open311

SPEC_SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}


@pytest.fixture
def http(sessions, db_url, tmp_path):
    settings = Settings(database_url=db_url, data_dir=tmp_path, channel="sandbox")
    with TestClient(create_app(settings, run_jobs=False)) as client:
        yield client


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_names_the_georeport_v2_endpoint_and_both_formats(http, fmt):
    status, doc = Open311(http, fmt).discovery()
    assert status == 200
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_list_every_category_with_its_national_class(http, fmt):
    status, services = Open311(http, fmt).services()
    assert status == 200
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) >= {"flooding", "manhole_cover", "bulky_waste", "other"}
    assert all(set(s) == SPEC_SERVICE_FIELDS for s in services)
    flooding = by_code["flooding"]
    assert flooding["service_name"] == "道路积水"
    assert flooding["group"] == "突发事件"
    assert flooding["type"] == "realtime"
    assert "积水" in flooding["keywords"].split(",")
    assert flooding["metadata"] in (True, "true")  # it has the severity attribute


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_offers_severity_where_the_category_has_it(http, fmt):
    status, definition = Open311(http, fmt).service_definition("flooding")
    assert status == 200
    assert definition["service_code"] == "flooding"
    (severity,) = definition["attributes"]
    assert severity["code"] == "severity"
    assert severity["datatype"] == "singlevaluelist"
    assert [v["key"] for v in severity["values"]] == ["normal", "severe"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_or_format_is_the_specs_error(http, fmt):
    status, errors = Open311(http, fmt).service_definition("no_such_thing")
    assert status == 404
    assert errors[0]["code"] in (404, "404") and "no_such_thing" in errors[0]["description"]
    r = http.get("/open311/v2/services.yaml")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_api_keys_are_shown_once_stored_hashed_listed_and_revoked(db_url, sessions, monkeypatch):
    monkeypatch.setenv("GRIDBOT_DATABASE_URL", db_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        out = runner.invoke(cli_app, ["api-key", "create", "--name", "12345热线"])
        assert out.exit_code == 0, out.output
        key = out.output.strip().splitlines()[-1]
        again = runner.invoke(cli_app, ["api-key", "create", "--name", "12345热线"])
        assert again.exit_code == 1 and "已有名为「12345热线」" in again.output
        with sessions() as s:
            (row,) = s.query(ApiClient).all()
            assert key not in (row.key_hash, row.key_prefix) and row.key_hash != key
            assert api_keys.authenticate(s, key).name == "12345热线"
            assert row.rider.openid.startswith("api:")
        listed = runner.invoke(cli_app, ["api-key", "list"]).output
        assert "12345热线" in listed and key[:10] in listed and key not in listed
        assert runner.invoke(cli_app, ["api-key", "revoke", "12345热线"]).exit_code == 0
        with sessions() as s:
            assert api_keys.authenticate(s, key) is None
        bad = runner.invoke(cli_app, ["api-key", "create", "--name", "x", "--scope", "admin"])
        assert bad.exit_code == 1 and "read 或 write" in bad.output
    finally:
        get_settings.cache_clear()
