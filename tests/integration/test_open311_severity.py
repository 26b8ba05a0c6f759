"""An Open311 request marked severe (attribute[severity]=severe) gets the severe deadlines,
as a chat report whose words make it severe does."""

from datetime import timedelta

import pytest

from app.db import unit_of_work
from app.services.directory import api_keys
from models import Ticket, utcnow
from tests.chatkit import FENGYUAN_1


@pytest.mark.parametrize(("severity", "claim_minutes"), [("severe", 10), ("normal", 15)])
def test_a_request_marked_severe_gets_the_severe_deadlines(
    client, demo_sessions, severity, claim_minutes
):
    with unit_of_work(demo_sessions) as s:
        key = api_keys.create(s, name="12345热线", scope="write", now=utcnow())[1]
    lat, lng = FENGYUAN_1
    answer = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "flooding",
            "lat": str(lat),
            "long": str(lng),
            "description": "路口积水",
            "attribute[severity]": severity,
        },
    )
    assert answer.status_code == 200, answer.text
    number = int(answer.json()[0]["service_request_id"])
    with demo_sessions() as s:
        ticket = s.get(Ticket, number)
        assert ticket.claim_due_at - ticket.created_at == timedelta(minutes=claim_minutes)
