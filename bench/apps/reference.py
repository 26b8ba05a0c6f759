"""The reference target: the straightforward implementation of the durable work a report
needs, written the way FastAPI, wechatpy and the SQLAlchemy ORM document it, and nothing
more (issue 20).

Per message, one session and one commit: wechatpy checks msg_signature, decrypts and parses;
the inbox row (MsgId unique) is written with the answer; a text becomes the rider's draft;
a location is looked up in an STRtree of the grids, files a ticket from the draft, and
writes an outbox row for the grid's worker; the answer is an encrypted passive text reply.
A delivery of a MsgId already answered (WeChat's retry) gets the stored answer, so a retry
names the same ticket. Nothing sends the outbox, and there is no timestamp window, replay
store, classification, deadline, routing rule or event log: that is gridbot's extra work.

SQLite gets the journal settings gridbot uses (WAL, synchronous=NORMAL, a busy timeout),
so both write with the same durability. Configured by BENCH_REFERENCE_DATABASE_URL and
BENCH_WECHAT_TOKEN, BENCH_WECHAT_AES_KEY, BENCH_WECHAT_APP_ID; the tables are created and
the demo district's grids loaded at start-up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from shapely import STRtree
from shapely.geometry import Point, shape
from sqlalchemy import ForeignKey, String, Text, create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from starlette.concurrency import run_in_threadpool
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from app.domain.coords import gcj02_to_wgs84

DISTRICT = Path(__file__).resolve().parents[2] / "app" / "demo" / "district.geojson"


class Base(DeclarativeBase):
    pass


class Grid(Base):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(64))
    geometry: Mapped[str] = mapped_column(Text)


class Inbox(Base):
    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str] = mapped_column(Text, default="")


class Draft(Base):
    __tablename__ = "drafts"
    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    lat: Mapped[float]
    lng: Mapped[float]
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    created_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(UTC))


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    to_user: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    sent: Mapped[bool] = mapped_column(default=False)


def make_engine(url: str):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def load_grids(engine) -> tuple[STRtree, list[Grid]]:
    """Create the tables on `engine` and load the demo district's grids once; the index."""
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        if not session.scalar(select(func.count()).select_from(Grid)):
            features = json.loads(DISTRICT.read_text(encoding="utf-8"))["features"]
            grids = [f for f in features if f["properties"]["level"] == "grid"]
            for i, f in enumerate(grids):
                name = f["properties"]["name"]
                geometry = json.dumps(f["geometry"])
                session.add(Grid(name=name, worker=f"网格员{i + 1}", geometry=geometry))
            session.commit()
        grids = list(session.scalars(select(Grid).order_by(Grid.id)))
    return STRtree([shape(json.loads(g.geometry)) for g in grids]), grids


if os.environ.get("BENCH_REFERENCE_DATABASE_URL"):  # served; bench.message_floor imports it
    engine = make_engine(os.environ["BENCH_REFERENCE_DATABASE_URL"])
    SessionLocal = sessionmaker(engine)
    crypto = WeChatCrypto(
        os.environ["BENCH_WECHAT_TOKEN"],
        os.environ["BENCH_WECHAT_AES_KEY"],
        os.environ["BENCH_WECHAT_APP_ID"],
    )
    tree, grids = load_grids(engine)
else:
    tree, grids = load_grids(make_engine("sqlite://"))
app = FastAPI()


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/wechat")
async def receive(request: Request, db: SessionDep) -> Response:
    q = request.query_params
    body = await request.body()
    xml = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_message(xml)
    answer = await run_in_threadpool(handle, db, msg)
    reply = TextReply(message=msg, content=answer).render()
    return Response(
        crypto.encrypt_message(reply, q["nonce"], q["timestamp"]),
        media_type="application/xml; charset=utf-8",
    )


def handle(db: Session, msg) -> str:
    """The answer to `msg`, recorded with its work in one commit."""
    done = db.scalar(select(Inbox).where(Inbox.msg_id == str(msg.id)))
    if done is not None:
        return done.reply
    inbox = Inbox(msg_id=str(msg.id), openid=msg.source)
    db.add(inbox)
    if msg.type == "text":
        draft = db.get(Draft, msg.source)
        if draft is None:
            db.add(Draft(openid=msg.source, text=msg.content))
        else:
            draft.text = msg.content
        inbox.reply = "收到。请发送问题所在的位置。"
    elif msg.type == "location":
        inbox.reply = file_ticket(db, msg)
    else:
        inbox.reply = "请用文字描述问题，再发送位置。"
    try:
        db.commit()
    except IntegrityError:  # a copy of this message was answered meanwhile
        db.rollback()
        return db.scalar(select(Inbox.reply).where(Inbox.msg_id == str(msg.id))) or ""
    return inbox.reply


def file_ticket(db: Session, msg) -> str:
    # WeChat sends GCJ-02; the grids are drawn in WGS-84.
    lat, lng = gcj02_to_wgs84(float(msg.location_x), float(msg.location_y))
    point = Point(lng, lat)
    hits = tree.query(point, predicate="intersects")
    if not len(hits):
        return "这个位置不在服务区域内。"
    grid = grids[int(hits[0])]
    draft = db.get(Draft, msg.source)
    text = draft.text if draft is not None else msg.label
    ticket = Ticket(openid=msg.source, text=text, lat=lat, lng=lng, grid_id=grid.id)
    db.add(ticket)
    if draft is not None:
        db.delete(draft)
    db.flush()
    db.add(Outbox(to_user=grid.worker, content=f"新工单 #{ticket.id}：{text}", ticket_id=ticket.id))
    return f"已受理！工单号 #{ticket.id}，已派往{grid.name}（{grid.worker}）。处理进展会通知您。"
