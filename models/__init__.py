"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from models.api_client import API_OPENID_PREFIX, ApiClient, ApiRequest
from models.area import LEVELS, Area
from models.base import Base, UTCDateTime, utcnow
from models.console import ConsoleLink, ConsoleSession
from models.conversation import ReportDraft
from models.digest import Digest
from models.hazard import HazardAlert, HazardOptOut, OwedHazardAlert
from models.messaging import (
    ChannelPause,
    InboxFailure,
    InboxMessage,
    OutboxMessage,
    ParkedMessage,
    SandboxMessage,
    SeenDelivery,
)
from models.people import ROLES, WECOM_PREFIX, BindFailure, Rider, Staff, StaffInvite
from models.station import RiderPosition, Station, StationRequest
from models.ticket import Ticket, TicketEvent, TicketPhoto
from models.webhook import WEBHOOK_PREFIX, Webhook

__all__ = [
    "API_OPENID_PREFIX",
    "LEVELS",
    "ROLES",
    "WEBHOOK_PREFIX",
    "WECOM_PREFIX",
    "ApiClient",
    "ApiRequest",
    "Area",
    "Base",
    "BindFailure",
    "ChannelPause",
    "ConsoleLink",
    "ConsoleSession",
    "Digest",
    "HazardAlert",
    "HazardOptOut",
    "InboxFailure",
    "InboxMessage",
    "OutboxMessage",
    "OwedHazardAlert",
    "ParkedMessage",
    "ReportDraft",
    "Rider",
    "RiderPosition",
    "SandboxMessage",
    "SeenDelivery",
    "Staff",
    "StaffInvite",
    "Station",
    "StationRequest",
    "Ticket",
    "TicketEvent",
    "TicketPhoto",
    "UTCDateTime",
    "Webhook",
    "utcnow",
]
