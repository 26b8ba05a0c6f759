"""The fake WeChat's failure modes: scripted errors, drops and delays, and random chaos.

`FailureModes` is a mixin of `FakeWeChat`: tests call `fail_next`, `fail_http`,
`drop_next`, `delay` and `chaos` on the fake; its request handling takes the rules that
match a call's path with `_take_rules`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Rule:
    kind: str  # "errcode" | "http" | "delay" | "drop"
    value: float
    times: int
    path_contains: str


class FailureModes:
    """The failure-mode controls; the state is set up by `FakeWeChat.reset`."""

    _lock: threading.Lock
    _rules: list[Rule]
    _chaos: tuple[float, tuple[int, ...], str] | None

    def fail_next(
        self,
        errcode: int,
        times: int = 1,
        path_contains: str = "message/custom/send",
    ) -> None:
        """The next `times` matching calls answer {"errcode": errcode} with HTTP 200."""
        self._add_rule(Rule("errcode", errcode, times, path_contains))

    def fail_http(
        self, status: int, times: int = 1, path_contains: str = "message/custom/send"
    ) -> None:
        self._add_rule(Rule("http", status, times, path_contains))

    def chaos(
        self,
        share: float,
        outcomes: tuple[int, ...] = (-1, 45009, 500, 0),
        path_contains: str = "message/",
    ) -> None:
        """Fail `share` of matching calls at random with one of `outcomes`: an errcode,
        an HTTP status (500-599), 0 = drop the connection without acting, or -2 = act on
        the call, then drop the connection (the answer is lost)."""
        with self._lock:
            self._chaos = (share, tuple(outcomes), path_contains) if share > 0 else None

    def drop_next(self, times: int = 1, path_contains: str = "message/custom/send") -> None:
        """The next `times` matching calls close the connection without an answer."""
        self._add_rule(Rule("drop", 0, times, path_contains))

    def delay(self, seconds: float, times: int = 1, path_contains: str = "") -> None:
        """The next `times` matching calls sleep `seconds` before answering."""
        self._add_rule(Rule("delay", seconds, times, path_contains))

    # -- request handling (called from server threads) ---------------------------------------

    def _add_rule(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take_rules(self, path: str) -> list[Rule]:
        taken: list[Rule] = []
        with self._lock:
            seen_kinds: set[str] = set()
            for rule in self._rules:
                if rule.kind in seen_kinds or rule.path_contains not in path or rule.times <= 0:
                    continue
                seen_kinds.add(rule.kind)
                rule.times -= 1
                taken.append(rule)
            self._rules = [r for r in self._rules if r.times > 0]
        return taken
