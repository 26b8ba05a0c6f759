"""Message routing: feature routers declare what they handle; a dispatcher tries them in order.

Handlers take (ctx, args) and return the passive reply text, or None to let the next
route try. The context is whatever the application builds; routing reads only `ctx.msg`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.inbound import InboundMessage


class HasMessage(Protocol):
    msg: InboundMessage


Handler = Callable[[Any, str], "str | None"]
Guard = Callable[[Any], bool]


def normalize(text: str) -> str:
    """Fold full-width spaces and colons a phone keyboard inserts, trim the ends."""
    return text.replace("\u3000", " ").replace("：", " ").strip()


def match_command(text: str, words: Iterable[str]) -> str | None:
    """The arguments after a command word, or None when `text` is not that command.

    Chinese words match as a prefix ("认领12" works); English words need a word boundary
    and ignore case ("Claim 12").
    """
    text = normalize(text)
    lowered = text.lower()
    for word in words:
        if word.isascii():
            if lowered == word or lowered.startswith(word + " "):
                return text[len(word) :].strip()
        elif text.startswith(word):
            return text[len(word) :].strip()
    return None


@dataclass(frozen=True)
class Route:
    handler: Handler
    kinds: frozenset[str]
    words: tuple[str, ...]
    when: Guard | None

    def match(self, ctx: HasMessage) -> str | None:
        msg = ctx.msg
        kind = f"event:{msg.event}" if msg.kind == "event" else msg.kind
        if kind not in self.kinds:
            return None
        if self.when is not None and not self.when(ctx):
            return None
        if self.words:
            return match_command(msg.text, self.words)
        return ""


class Router:
    """One feature's routes, in the order they were declared."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def command(self, *words: str, when: Guard | None = None, kinds=("text", "voice")):
        """Text (or recognised speech) that starts with one of `words`."""
        return self._add(frozenset(kinds), words, when)

    def on(self, *kinds: str, when: Guard | None = None):
        """Messages of these kinds ("image", "location", "event:subscribe", ...)."""
        return self._add(frozenset(kinds), (), when)

    def _add(self, kinds, words, when):
        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(handler, kinds, tuple(w.lower() if w.isascii() else w for w in words), when)
            )
            return handler

        return register


class Dispatcher:
    """Tries the routes in order. A handler that raises one of `refusals` (the application's
    "you may not / that is wrong" errors) is answered with the error's text: handlers
    return text for what worked and raise for what was refused."""

    def __init__(
        self,
        routers: Iterable[Router],
        fallback: Callable[[Any], str],
        refusals: tuple[type[Exception], ...] = (),
    ) -> None:
        self.routes = [route for router in routers for route in router.routes]
        self.fallback = fallback
        self.refusals = refusals

    def dispatch(self, ctx: HasMessage) -> str:
        for route in self.routes:
            args = route.match(ctx)
            if args is None:
                continue
            try:
                reply = route.handler(ctx, args)
            except self.refusals as refusal:
                return str(refusal)
            if reply is not None:
                return reply
        return self.fallback(ctx)
