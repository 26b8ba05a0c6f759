"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from models.area import LEVELS, Area
from models.base import Base, UTCDateTime, utcnow
from models.conversation import ReportDraft
from models.digest import Digest
from models.messaging import (
    ChannelPause,
    InboxFailure,
    InboxMessage,
    OutboxMessage,
    ParkedMessage,
    SandboxMessage,
)
from models.people import ROLES, Rider, Staff, StaffInvite
from models.ticket import Ticket, TicketEvent, TicketPhoto

__all__ = [
    "LEVELS",
    "ROLES",
    "Area",
    "Base",
    "ChannelPause",
    "Digest",
    "InboxFailure",
    "InboxMessage",
    "OutboxMessage",
    "ParkedMessage",
    "ReportDraft",
    "Rider",
    "SandboxMessage",
    "Staff",
    "StaffInvite",
    "Ticket",
    "TicketEvent",
    "TicketPhoto",
    "UTCDateTime",
    "utcnow",
]
