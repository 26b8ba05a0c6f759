"""Notices to "wecom:<userid>" addresses go through the WeCom app; all others through the
channel they went through before (the official account or the sandbox).

One channel to the outbox sender, so a notice is leased, retried and dead-lettered once
whichever way it goes. The wiring's `card_for` (outbox id -> (msgtype, content) or None)
says which notices are WeCom messages of their own: a new-ticket notice is a template card
("template_card"), and a pressed card's update ("update_template_card") is owed through
the outbox too, so WeCom's failures retry it like any notice.

`route_of` names what a rate limit pauses: WeCom's limits hold up the WeCom app only,
the official account's only the official account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.wecom import wecom_userid

CardFor = Callable[[int], tuple[str, Mapping[str, Any]] | None]
WECOM_ROUTE = "wecom"


class WeComRouting:
    def __init__(self, official, wecom_api, *, card_for: CardFor | None = None) -> None:
        self.official = official
        self.wecom = wecom_api
        self.card_for = card_for
        self.name = getattr(official, "name", "default")

    def __getattr__(self, name: str):
        # The sandbox's readers (messages_to) reach the channel underneath.
        return getattr(self.official, name)

    def route_of(self, openid: str) -> str:
        return WECOM_ROUTE if wecom_userid(openid) is not None else self.name

    def send_text(self, openid: str, text: str, *, outbox_id: int) -> None:
        userid = wecom_userid(openid)
        if userid is None:
            self.official.send_text(openid, text, outbox_id=outbox_id)
            return
        special = self.card_for(outbox_id) if self.card_for is not None else None
        if special is None:
            self.wecom.send_text(userid, text)
            return
        msgtype, content = special
        if msgtype == "update_template_card":
            self.wecom.update_card([userid], content["response_code"], content["replace_name"])
        else:
            self.wecom.send_card(userid, content)

    def send_image(self, openid: str, png: bytes, *, outbox_id: int) -> None:
        userid = wecom_userid(openid)
        if userid is None:
            self.official.send_image(openid, png, outbox_id=outbox_id)
        else:
            self.wecom.send_image(userid, png, f"outbox-{outbox_id}.png")

    def send_template(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, outbox_id: int
    ) -> None:
        # WeCom has no 48-hour window, so no fallback is ever asked for a WeCom address.
        self.official.send_template(openid, template_id, fields, outbox_id=outbox_id)
