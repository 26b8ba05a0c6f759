"""A soak of the Open311 API beside the chat: service requests POSTed from several
threads while riders report in WeChat, against the real app under uvicorn.

Nothing is lost (every POST is answered with its id, every report is a ticket), and
repeats are merged by the chat's rules: all reports here are of flooding at two crossings,
so each crossing keeps one open ticket and every other report there confirms it.
GRIDBOT_OPEN311_SOAK=5000 runs the issue's full size (CI runs 240).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from app.db import unit_of_work
from app.services.directory import api_keys
from models import Ticket, utcnow
from tests.chatkit import FENGYUAN_1, NANYUAN_4

REQUESTS = int(os.environ.get("GRIDBOT_OPEN311_SOAK", "240"))
RIDERS = 40
POINTS = (FENGYUAN_1, NANYUAN_4)


def at(t: Ticket, point: tuple[float, float]) -> bool:
    """Within a metre (a chat point comes back from GCJ-02 to WGS-84 iteratively)."""
    return abs(t.lat - point[0]) < 1e-5 and abs(t.lng - point[1]) < 1e-5


def test_api_requests_and_chat_reports_lose_nothing_and_merge_alike(gridbot, demo_sessions):
    bot = gridbot()
    with unit_of_work(demo_sessions) as s:
        key = api_keys.create(s, name="12345热线", scope="write", now=utcnow())[1]
    answers: list[int] = []
    lock = threading.Lock()

    def post(i: int) -> None:
        lat, lng = POINTS[i % 2]
        with httpx.Client(base_url=bot.base_url, timeout=60) as http:
            r = http.post(
                "/open311/v2/requests.json",
                data={
                    "api_key": key,
                    "service_code": "flooding",
                    "lat": str(lat),
                    "long": str(lng),
                    "description": f"路口积水（热线第{i}号来电）",
                },
            )
        assert r.status_code == 200, r.text
        with lock:
            answers.append(int(r.json()[0]["service_request_id"]))

    def rider(i: int) -> None:
        openid = f"soak-rider-{i}"
        bot.say(openid, "路口积水很深")
        bot.send_location(openid, POINTS[i % 2])

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(post, i) for i in range(REQUESTS)]
        futures += [pool.submit(rider, i) for i in range(RIDERS)]
        for f in futures:
            f.result()

    assert len(set(answers)) == REQUESTS
    with demo_sessions() as s:
        tickets = list(s.scalars(select(Ticket)))
        assert len(tickets) == REQUESTS + RIDERS
        by_id = {t.id: t for t in tickets}
        open_ones = [t for t in tickets if t.merged_into_id is None]
        for t in tickets:
            if t.merged_into_id is not None:
                target = by_id[t.merged_into_id]
                assert any(at(t, p) and at(target, p) for p in POINTS)
                assert target.merged_into_id is None
        # One open ticket per crossing (a second only if two arrived at the same instant
        # in two handler threads, as two riders' reports could).
        per_point = {p: sum(1 for t in open_ones if at(t, p)) for p in POINTS}
        assert all(1 <= n <= 2 for n in per_point.values()), per_point
        confirmations = s.scalar(select(func.sum(Ticket.confirmations))) or 0
    print(f"\n{REQUESTS} API requests + {RIDERS} chat reports -> open {per_point}")
    assert confirmations > 0
