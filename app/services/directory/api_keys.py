"""API keys of outside systems: created once (the key is shown once), stored hashed,
looked up by their hash, revoked.

A client reports under a rider row of its own (openid `api:<id>`): tickets it files have
it as their reporter, so the ticket's source is that client.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.errors import Conflict, InvalidInput, NotFound
from models import API_OPENID_PREFIX, ApiClient, Rider

SCOPES = ("read", "write")
KEY_PREFIX = "gbk_"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: Session, *, name: str, scope: str, now: datetime) -> tuple[ApiClient, str]:
    """A new client and its key (returned once; only its hash is kept)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInput("名称不能为空，最多 64 个字符。")
    if scope not in SCOPES:
        raise InvalidInput(f"权限只能是 {' 或 '.join(SCOPES)}。")
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise Conflict(f"已有名为「{name}」的接口客户端。")
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    rider = Rider(openid=f"{API_OPENID_PREFIX}pending-{secrets.token_hex(8)}", subscribed=False)
    session.add(rider)
    session.flush()
    rider.openid = f"{API_OPENID_PREFIX}{rider.id}"
    client = ApiClient(
        name=name,
        key_hash=key_hash(key),
        key_prefix=key[:10],
        scope=scope,
        rider=rider,
        created_at=now,
    )
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str) -> ApiClient | None:
    """The live client holding `key`, or None."""
    if not key or len(key) > 128:
        return None
    client = session.scalars(select(ApiClient).where(ApiClient.key_hash == key_hash(key))).first()
    if client is None or client.revoked_at is not None:
        return None
    return client


def all_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.id)))


def revoke(session: Session, *, name: str, now: datetime) -> ApiClient:
    client = session.scalars(select(ApiClient).where(ApiClient.name == name)).first()
    if client is None:
        raise NotFound(f"没有名为「{name}」的接口客户端。")
    if client.revoked_at is None:
        client.revoked_at = now
    return client


def ticket_source(session: Session, ticket_id: int) -> str:
    """Where a ticket came from, for staff: 微信 or the API client (and who asked)."""
    from models import ApiRequest

    sent = session.get(ApiRequest, ticket_id)
    if sent is None:
        return "微信"
    who = " ".join(p for p in (sent.last_name + sent.first_name, sent.phone, sent.email) if p)
    device = f" 设备 {sent.device_id}" if sent.device_id else ""
    return f"{sent.client.name}（Open311）" + (f"，联系人 {who}" if who else "") + device
