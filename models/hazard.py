"""Hazard alerts sent to riders, and riders who asked for none (退订预警)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class HazardAlert(Base):
    """One alert (or its "已恢复通行") owed to one rider about one ticket."""

    __tablename__ = "hazard_alerts"
    __table_args__ = (
        Index("ix_hazard_alerts_ticket_kind", "ticket_id", "kind"),
        Index("ix_hazard_alerts_rider_sent", "rider_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"))
    kind: Mapped[str] = mapped_column(String(8))
    """'alert' or 'clear'."""
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HazardOptOut(Base):
    """A rider who sent 退订预警: no hazard alerts until 订阅预警."""

    __tablename__ = "hazard_opt_outs"

    rider_id: Mapped[int] = mapped_column(ForeignKey("riders.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class OwedHazardAlert(Base):
    """An alert (or its "已恢复通行") a ticket change owes the riders nearby, written in
    the change's transaction and sent by the hazard-alert sweep (app/jobs.py), which deletes
    it: the change never pays for the fan-out, and a crash loses nothing."""

    __tablename__ = "owed_hazard_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    """'alert' or 'clear'."""
    requested_by: Mapped[str | None] = mapped_column(String(64))
    """The lead who sent 预警 <号> (named on the timeline); None when the ticket itself
    warrants it."""
    owed_at: Mapped[datetime] = mapped_column(UTCDateTime())
