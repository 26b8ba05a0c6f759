"""Several processes drain one outbox at once: every notice goes out exactly once."""

import multiprocessing
import time

from sqlalchemy import func, select

from app.db import make_engine, make_sessionmaker, unit_of_work
from app.services.outbox import enqueue
from tests.fakewechat import start_fake_wechat

NOTICES = 400
PROCESSES = 4


def _drain_until_empty(db_url: str, base_url: str, start, counts) -> None:
    from app.delivery.outbox_sender import OutboxSender
    from bot.api import WeChatAPI
    from bot.channels import WeChatChannel
    from models import OutboxMessage

    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    api = WeChatAPI(app_id="wx", app_secret="s", base_url=base_url)
    sender = OutboxSender(sessions, WeChatChannel(api), batch=10, backoff_unit=0.01)
    start.wait()
    began = time.monotonic()
    sent = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent += sender.drain().sent
        with sessions() as s:
            left = s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
        if not left:
            break
        time.sleep(0.05)
    counts.append((sent, round(time.monotonic() - began, 2)))
    api.close()
    engine.dispose()


def test_concurrent_processes_send_each_notice_exactly_once(sessions, db_url):
    from models import OutboxMessage, utcnow

    now = utcnow()
    with unit_of_work(sessions) as s:
        for i in range(NOTICES):
            enqueue(s, to_openid=f"worker-{i % 16}", kind="test", text=f"通知 {i}", now=now)
    fake = start_fake_wechat()
    # Failed sends retry after a (shrunk) backoff, in whichever process leases them.
    fake.chaos(0.2, outcomes=(-1, 500))
    fake.delay(0.01, times=NOTICES)  # keep the processes interleaved
    ctx = multiprocessing.get_context("spawn")
    start, counts = ctx.Event(), ctx.Manager().list()
    procs = [
        ctx.Process(target=_drain_until_empty, args=(db_url, fake.base_url, start, counts))
        for _ in range(PROCESSES)
    ]
    try:
        for p in procs:
            p.start()
        start.set()
        for p in procs:
            p.join(timeout=90)
        assert all(p.exitcode == 0 for p in procs)
        texts = [m["content"] for m in fake.sent]
        print(f"\nper process (sent, seconds): {list(counts)}; resends: {fake.resends}")
        assert sorted(texts) == sorted(f"通知 {i}" for i in range(NOTICES))  # once each
        assert fake.resends == 0
        assert sum(c for c, _ in counts) == NOTICES
        assert sum(1 for c, _ in counts if c > 0) > 1  # the work really was shared
        with sessions() as s:
            assert set(s.scalars(select(OutboxMessage.status))) == {"sent"}
    finally:
        fake.stop()
        for p in procs:
            if p.is_alive():
                p.kill()
