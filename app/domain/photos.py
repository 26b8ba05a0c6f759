"""A photo someone sent: its role for the ticket and its way through the download pipeline."""

from __future__ import annotations

from enum import StrEnum


class PhotoRole(StrEnum):
    REPORT = "report"
    """The problem, sent by a rider."""
    RESOLUTION = "resolution"
    """The worker's "after" photo."""


class PhotoStatus(StrEnum):
    """The values stored in ticket_photos.status: pending -> stored, refused or failed."""

    PENDING = "pending"
    """Arrived; not yet downloaded and checked."""
    STORED = "stored"
    """Checked, stripped of metadata and stored."""
    REFUSED = "refused"
    """Not an acceptable image (format, size, broken)."""
    FAILED = "failed"
    """Could not be downloaded; given up."""

    @property
    def usable(self) -> bool:
        """Worth a link in a notice: stored, or soon to be (a link opens once it is)."""
        return self in (PhotoStatus.PENDING, PhotoStatus.STORED)
