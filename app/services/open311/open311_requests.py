"""POST requests: an outside platform's service request through the same intake as a
rider's report (placing in the grid, duplicates, routing, deadlines).

The request files as a complete report at once (it carries its point and its words), so
it makes no draft; it is reported under the client's own rider row and logged as the
client's act. Refusals are ServiceErrors whose kind the API answers as its HTTP status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from app.domain.categories import Category
from app.media.fetch_guard import MediaHosts
from app.media.open311_source import OPEN311_MEDIA_ID
from app.services import policies
from app.services.directory.grids import served_district
from app.services.errors import InvalidInput, NotFound
from app.services.handling import deadlines
from app.services.handling.actors import Actor
from app.services.intake.reports import IntakeRules, file_ticket, new_photo
from app.services.open311 import repeats
from app.services.open311.open311_services import SEVERITY
from models import ApiClient, ApiRequest, ReportDraft, Ticket

MAX_DESCRIPTION = 2000
CONTACT_FIELDS = {
    "device_id": 128,
    "account_id": 128,
    "first_name": 64,
    "last_name": 64,
    "phone": 32,
    "email": 128,
}


@dataclass(frozen=True)
class ServiceRequest:
    """A POST requests body, checked."""

    category: Category
    lat: float
    lng: float
    """WGS-84, as the spec says."""
    description: str
    address: str = ""
    media_url: str = ""
    severe: bool = False
    contact: dict[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    """The client's Idempotency-Key header: copies of a POST under it are one request."""


def parse(
    form: dict[str, str], media_hosts: MediaHosts | None, idempotency_key: str = ""
) -> ServiceRequest:
    """The request in `form`, or InvalidInput (400) / NotFound (404, unknown service_code)
    saying what is wrong in words an integrator reads."""
    code = form.get("service_code", "").strip()
    if not code:
        raise InvalidInput("缺少 service_code。")
    try:
        category = Category(code)
    except ValueError:
        raise NotFound(f"没有编码为 {code[:40]} 的服务（service_code）。") from None
    lat_text, lng_text = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat_text or not lng_text:
        if form.get("address_string", "").strip() or form.get("address_id", "").strip():
            raise InvalidInput("需要 lat 和 long（WGS-84 经纬度）：本平台不按地址定位。")
        raise InvalidInput("缺少 lat 和 long（WGS-84 经纬度）。")
    try:
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        raise InvalidInput("lat 和 long 须为十进制经纬度数字。") from None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("lat 或 long 超出范围。")
    description = form.get("description", "").strip()
    media_url = form.get("media_url", "").strip()
    if not description and not media_url:
        raise InvalidInput("description 和 media_url 至少要有一项。")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description 最多 {MAX_DESCRIPTION} 个字符。")
    if media_url:
        _check_media_url(media_url, media_hosts)
    severity = form.get(f"attribute[{SEVERITY}]", "").strip()
    if severity not in ("", "normal", "severe"):
        raise InvalidInput("attribute[severity] 只能是 normal 或 severe。")
    contact = {}
    for name, limit in CONTACT_FIELDS.items():
        value = form.get(name, "").strip()
        if len(value) > limit:
            raise InvalidInput(f"{name} 最多 {limit} 个字符。")
        contact[name] = value
    if len(idempotency_key) > 255:
        raise InvalidInput("Idempotency-Key 最多 255 个字符。")
    return ServiceRequest(
        idempotency_key=idempotency_key.strip(),
        category=category,
        lat=lat,
        lng=lng,
        description=description,
        address=form.get("address_string", "").strip()[:256],
        media_url=media_url,
        severe=severity == "severe",
        contact=contact,
    )


def _check_media_url(url: str, hosts: MediaHosts | None) -> None:
    if len(url) > 512:
        raise InvalidInput("media_url 最多 512 个字符。")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise InvalidInput("media_url 不是有效的网址。") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidInput("media_url 须为 http 或 https 网址。")
    if hosts is None or not hosts.allows(parsed.host):
        raise InvalidInput(
            f"media_url 的主机 {parsed.host[:60]} 不在允许列表中"
            "（运维设置 GRIDBOT_OPEN311_MEDIA_HOSTS）。"
        )


def file_request(
    session: Session,
    client: ApiClient,
    request: ServiceRequest,
    *,
    now: datetime,
    rules: IntakeRules,
    repeat_window: timedelta | None = None,
) -> Ticket:
    """File `request` as `client`'s report; the ticket (merged into an open one about the
    same problem when the duplicate rules say so), or InvalidInput outside the district.

    With a `repeat_window`, a copy of a request this client filed inside it answers the
    ticket already filed (app/services/open311/repeats.py); a copy racing this one makes
    the flush at the end raise IntegrityError, and the caller tries once more."""
    key = repeats.request_key(
        idempotency_key=request.idempotency_key,
        device_id=request.contact.get("device_id", ""),
        description=request.description,
        lat=request.lat,
        lng=request.lng,
    )
    if repeat_window is None:
        key = None
    if key is not None:
        filed = repeats.earlier(
            session, client_id=client.id, key=key, now=now, window=repeat_window
        )
        if filed is not None:
            return session.get_one(Ticket, filed)
    placement = rules.locator.place(session, request.lat, request.lng)
    if placement.routed_area is None:
        raise InvalidInput(
            f"该位置不在本平台服务范围（{served_district(session)}）内，请核对 lat/long（WGS-84）。"
        )
    rider = client.rider
    photos = []
    if request.media_url:
        photo = new_photo(
            session,
            media_id=OPEN311_MEDIA_ID,
            pic_url=request.media_url,
            sender_openid=rider.openid,
            now=now,
        )
        photos.append(
            {"media_id": OPEN311_MEDIA_ID, "pic_url": request.media_url, "photo_id": photo.id}
        )
    draft = ReportDraft(
        rider_id=rider.id,
        description=request.description,
        lat=request.lat,
        lng=request.lng,
        place=request.address,
        photos=photos,
        started_at=now,
        updated_at=now,
    )
    ticket = file_ticket(
        session,
        rider,
        draft,
        now=now,
        rules=rules,
        placement=placement,
        location_source="api",
        category=request.category.value,
        actor=Actor.of_api_client(client.name, rider),
        source=f"来自{client.name}（Open311）",
    )
    if request.severe and ticket.merged_into_id is None:
        deadlines.make_severe(ticket, policies.of(session))
    session.add(
        ApiRequest(
            ticket_id=ticket.id,
            client_id=client.id,
            media_url=request.media_url,
            created_at=now,
            request_key=key,
            **request.contact,
        )
    )
    session.flush()  # a racing copy of this request fails here, not at the commit
    return ticket
