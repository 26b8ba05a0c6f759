"""Run the photo pipeline against the chat kit's database with photos held in memory.

Loaded as a pytest plugin (tests/conftest.py), so its `photos` fixture serves every test.
"""

from __future__ import annotations

import pytest

from app.media.sources import MediaUnavailable
from app.media.storage import LocalMediaStore
from app.services.handling.views import ticket_dict
from app.services.intake.photos import PhotoPipeline, PhotoRules
from models import Ticket


class MemorySource:
    """Plays WeChat's media store: media id -> bytes."""

    def __init__(self) -> None:
        self.media: dict[str, bytes] = {}

    def fetch(self, media_id: str, pic_url: str) -> bytes:
        if media_id not in self.media:
            raise MediaUnavailable("WeChat API error 40007: invalid media_id", retryable=False)
        return self.media[media_id]

    def close(self) -> None:
        pass


class Photos:
    def __init__(self, chat, root, source=None, **rules) -> None:
        self.chat = chat
        self.source = source or MemorySource()
        self.store = LocalMediaStore(root)
        self.pipeline = PhotoPipeline(
            chat.sessions,
            self.source,
            self.store,
            rules=PhotoRules(**rules),
            intake=chat.rules,
            clock=chat.clock,
        )

    def send(self, openid: str, media_id: str, data: bytes) -> str:
        """The rider sends a photo WeChat holds as `media_id`; the passive reply."""
        self.source.media[media_id] = data
        return self.chat.photo(openid, media_id)

    def run(self):
        return self.pipeline.run()

    def ticket_json(self, number: int) -> dict:
        with self.chat.sessions() as s:
            return ticket_dict(s.get(Ticket, number), with_events=True, store=self.store)


@pytest.fixture
def photos(chat, tmp_path) -> Photos:
    """The photo pipeline for `chat`, its photos stored under the test's directory."""
    return Photos(chat, tmp_path / "media")
