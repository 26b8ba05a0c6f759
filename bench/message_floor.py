"""The floor under a report's handling: the same messages handled three ways in one process.

Issue 20 asks, where a target cannot be met, for the measured floor next to what gridbot
spends. This benchmark feeds riders' reports (a text, then a location that files a
ticket) to three handlers, interleaved message by message so that noise on the machine
falls on all three alike, on SQLite and on PostgreSQL:

- gridbot: `ChatEngine.handle`, everything gridbot does per message (as `chat_path`);
- reference: `bench.apps.reference.handle`, the issue's straightforward implementation
  (one ORM session and one commit per message);
- floor: the reference's durable work and nothing else, written as lean as SQLAlchemy
  allows: statements built once, one connection transaction, no ORM. Per text: the
  inbox row (MsgId unique) and the draft upserted. Per location: the inbox row, the draft
  taken (DELETE ... RETURNING), the ticket, the worker's outbox row, the reply stored.

Each figure is CPU time per message (`time.thread_time`, median and p90), without HTTP,
decryption or parsing (each handler gets its message parsed). `python -m bench
message_floor --set n=400`.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import bindparam

from bench import Context, Row, benchmark, cpu_figures
from bench.chat_path import _engine_for
from bench.databases import KINDS, seed_demo

HANDLERS = ("gridbot", "reference", "floor")


def _wechatpy_message(kind: str, openid: str, msg_id: int, **fields):
    from wechatpy.messages import LocationMessage, TextMessage

    base = {"ToUserName": "gh_bench", "FromUserName": openid, "CreateTime": "1764000000"}
    base["MsgId"] = str(msg_id)
    if kind == "text":
        return TextMessage({**base, "MsgType": "text", "Content": fields["text"]})
    return LocationMessage(
        {
            **base,
            "MsgType": "location",
            "Location_X": str(fields["lat"]),
            "Location_Y": str(fields["lng"]),
            "Scale": "16",
            "Label": fields["label"],
        }
    )


class Floor:
    """The reference's durable work through SQLAlchemy Core, statements built once."""

    def __init__(self, engine) -> None:
        from sqlalchemy import delete, update
        from sqlalchemy.dialects import postgresql, sqlite

        from bench.apps import reference as ref

        self.engine, self.ref = engine, ref
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        inbox, drafts = ref.Inbox.__table__, ref.Draft.__table__
        tickets, outbox = ref.Ticket.__table__, ref.Outbox.__table__
        self.inbox = dialect.insert(inbox).on_conflict_do_nothing().returning(inbox.c.id)
        self.stored = inbox.select().with_only_columns(inbox.c.reply)
        self.stored = self.stored.where(inbox.c.msg_id == bindparam("msg_id"))
        upsert = dialect.insert(drafts)
        self.draft = upsert.on_conflict_do_update(
            index_elements=[drafts.c.openid], set_={"text": upsert.excluded.text}
        )
        self.take_draft = (
            delete(drafts).where(drafts.c.openid == bindparam("openid")).returning(drafts.c.text)
        )
        self.ticket = tickets.insert().returning(tickets.c.id)
        self.outbox = outbox.insert()
        self.reply = (
            update(inbox).where(inbox.c.id == bindparam("inbox_id")).values(reply=bindparam("r"))
        )

    def handle(self, msg) -> str:
        from shapely.geometry import Point

        from app.domain.coords import gcj02_to_wgs84

        with self.engine.begin() as conn:
            inbox_id = conn.execute(
                self.inbox, {"msg_id": str(msg.id), "openid": msg.source, "reply": ""}
            ).scalar()
            if inbox_id is None:  # a retry: the stored answer
                return conn.execute(self.stored, {"msg_id": str(msg.id)}).scalar() or ""
            if msg.type == "text":
                conn.execute(self.draft, {"openid": msg.source, "text": msg.content})
                return "收到。请发送问题所在的位置。"
            lat, lng = gcj02_to_wgs84(float(msg.location_x), float(msg.location_y))
            hits = self.ref.tree.query(Point(lng, lat), predicate="intersects")
            if not len(hits):
                reply = "这个位置不在服务区域内。"
            else:
                grid = self.ref.grids[int(hits[0])]
                text = conn.execute(self.take_draft, {"openid": msg.source}).scalar()
                ticket_id = conn.execute(
                    self.ticket,
                    {
                        "openid": msg.source,
                        "text": text or msg.label,
                        "lat": lat,
                        "lng": lng,
                        "grid_id": grid.id,
                        "created_at": datetime.now(UTC),
                    },
                ).scalar_one()
                conn.execute(
                    self.outbox,
                    {
                        "to_user": grid.worker,
                        "content": f"新工单 #{ticket_id}：{text}",
                        "ticket_id": ticket_id,
                        "sent": False,
                    },
                )
                reply = f"已受理！工单号 #{ticket_id}，已派往{grid.name}（{grid.worker}）。"
            conn.execute(self.reply, {"inbox_id": inbox_id, "r": reply})
            return reply


def run_floor(ctx: Context, kind: str, n: int) -> dict[str, dict[str, float]]:
    """Per handler and message kind: CPU ms per message (median, p90) over `n` reports."""
    os.environ.pop("BENCH_REFERENCE_DATABASE_URL", None)  # import the handlers, not the app
    from sqlalchemy.orm import Session

    from bench.apps import reference as ref
    from bench.webhook import demo_points
    from bot.inbound import InboundMessage

    with (
        ctx.database(kind) as url,
        ctx.database(kind, migrate=False) as ref_url,
        ctx.database(kind, migrate=False) as floor_url,
    ):
        seed_demo(url)
        engine, chat, clock, _ = _engine_for(url, {})
        ref_engine, floor_engine = ref.make_engine(ref_url), ref.make_engine(floor_url)
        ref.load_grids(ref_engine)
        ref.load_grids(floor_engine)
        floor = Floor(floor_engine)
        points, ids = demo_points(), itertools.count(9_000_000_000)
        samples: dict[tuple[str, str], list[float]] = defaultdict(list)

        def gridbot(kind_: str, openid: str, **fields) -> Callable[[], str]:
            msg = InboundMessage(
                kind=kind_,
                openid=openid,
                account="gh_bench",
                created_at=clock(),
                msg_id=str(next(ids)),
                **fields,
            )
            return lambda: chat.handle(msg)

        def reference(kind_: str, openid: str, **fields) -> Callable[[], str]:
            msg = _wechatpy_message(kind_, openid, next(ids), **fields)

            def run() -> str:
                with Session(ref_engine) as db:
                    return ref.handle(db, msg)

            return run

        def lean(kind_: str, openid: str, **fields) -> Callable[[], str]:
            msg = _wechatpy_message(kind_, openid, next(ids), **fields)
            return lambda: floor.handle(msg)

        makers = {"gridbot": gridbot, "reference": reference, "floor": lean}
        replies: dict[str, str] = {}
        for i in range(n + 20):  # the first 20: warm caches and statement caches
            lat, lng = points[i % len(points)]
            for name, make in makers.items():
                rider = f"rider-{name}-{i}"
                text = make("text", rider, text="路口积水很深，电动车过不去")
                where = make("location", rider, lat=lat, lng=lng, label="路口")
                for what, run in (("text", text), ("location", where)):
                    t0 = time.thread_time()
                    replies[name] = run()
                    if i >= 20:
                        samples[(name, what)].append(time.thread_time() - t0)
        engine.dispose()
        ref_engine.dispose()
        floor_engine.dispose()
    figures: dict[str, dict[str, float]] = {}
    for name in HANDLERS:
        if "已受理" not in replies[name]:
            raise AssertionError(f"{name} did not file the report: {replies[name]!r}")
        for what in ("text", "location"):
            ms = [s * 1000 for s in samples[(name, what)]]
            figures[f"{name} {what}"] = cpu_figures(ms)
        both = [
            (a + b) * 1000
            for a, b in zip(samples[(name, "text")], samples[(name, "location")], strict=True)
        ]
        figures[f"{name} report"] = cpu_figures(both)
    return figures


@benchmark("message_floor", "a report handled by gridbot, the reference and the lean floor")
def message_floor(ctx: Context) -> list[Row]:
    n = int(ctx.option("n", ctx.size(400, 20)))
    rows = []
    for kind in KINDS:
        figures = run_floor(ctx, kind, n)
        ref_ms = figures["reference report"]["cpu ms median"]
        for label, f in figures.items():
            ratio = ""
            if label.endswith(" report"):
                ratio = f"{f['cpu ms median'] / ref_ms:.2f}x reference"
            rows.append(Row(f"{kind} {label}", {"n": n, **f}, ratio=ratio))
    return rows
