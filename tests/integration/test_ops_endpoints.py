"""What an operator's probes and Prometheus see."""

import pytest
from fastapi.testclient import TestClient

from app.db import unit_of_work
from app.services.outbox import enqueue
from app.settings import Settings
from app.web.main import create_app
from bot.metrics import METRICS
from models import utcnow
from tests.chatkit import Chat
from tests.prometheus import sample


@pytest.fixture
def client(demo_sessions, db_url, tmp_path):
    app = create_app(Settings(database_url=db_url, data_dir=tmp_path), run_jobs=False)
    with TestClient(app) as c:
        yield c


def test_readyz_reports_the_outbox_backlog(client, demo_sessions):
    with unit_of_work(demo_sessions) as s:
        enqueue(s, to_openid="worker-1", kind="test", text="待发", now=utcnow())
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["database"] == "ok"
    assert body["outbox"]["pending"] == 1
    assert 0 <= body["outbox"]["oldest_pending_age_seconds"] < 60
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_down(tmp_path):
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path)
    with TestClient(create_app(settings, run_jobs=False)) as c:
        assert c.get("/readyz").status_code == 503
        assert c.get("/healthz").status_code == 200
        assert sample(c.get("/metrics").text, "gridbot_database_up") == 0


def test_metrics_count_messages_errors_and_outbox(client, demo_sessions, clock):
    before_text = METRICS.value("gridbot_messages_in_total", type="text")
    chat = Chat(demo_sessions, clock)
    chat.text("rider-1", "你好")
    with unit_of_work(demo_sessions) as s:
        enqueue(s, to_openid="worker-1", kind="test", text="待发", now=utcnow())
    body = client.get("/metrics").text
    assert "# TYPE gridbot_messages_in_total counter" in body
    assert sample(body, "gridbot_messages_in_total", type="text") == before_text + 1
    assert sample(body, "gridbot_outbox_notices", status="pending") == 1
    assert sample(body, "gridbot_database_up") == 1
    assert sample(body, "gridbot_outbox_oldest_pending_age_seconds") >= 0
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
