"""Process-local counters and summaries, rendered in the Prometheus text format for
GET /metrics.

They live in the process that counted them (with `serve --workers N` each worker
has its own; Prometheus sums them by scraping each, or an operator reads one worker's
view). Database-wide figures (backlog, oldest pending age) are read at scrape time, so
they are the same whichever process answers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable


class Metrics:
    """Named counters with label values, and summaries (the sum and count of observed
    durations); thread-safe; `render` gives Prometheus text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
        self._summaries: dict[str, list[float]] = {}
        self._help: dict[str, str] = {}
        self._summary_names: set[str] = set()

    def describe(self, name: str, help_text: str, *, summary: bool = False) -> None:
        self._help[name] = help_text
        if summary:
            self._summary_names.add(name)

    def inc(self, name: str, amount: float = 1.0, **labels: object) -> None:
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        with self._lock:
            series = self._values[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float) -> None:
        """One observation of summary `name`: rendered as `name_sum` and `name_count`."""
        with self._lock:
            totals = self._summaries.setdefault(name, [0.0, 0.0])
            totals[0] += seconds
            totals[1] += 1

    def summary(self, name: str) -> tuple[float, int]:
        """(sum, count) of summary `name`."""
        with self._lock:
            total, count = self._summaries.get(name, (0.0, 0.0))
        return total, int(count)

    def value(self, name: str, **labels: object) -> float:
        key = tuple(sorted((k, str(v)) for k, v in labels.items()))
        with self._lock:
            return self._values.get(name, {}).get(key, 0.0)

    def reset(self) -> None:
        with self._lock:
            self._values.clear()
            self._summaries.clear()

    def render(self) -> str:
        with self._lock:
            snapshot = {name: dict(series) for name, series in self._values.items()}
            summaries = {name: tuple(totals) for name, totals in self._summaries.items()}
        lines: list[str] = []
        for name in sorted(set(snapshot) | set(summaries) | set(self._help)):
            help_text = self._help.get(name, "")
            if name in summaries or name in self._summary_names:
                total, count = summaries.get(name, (0.0, 0.0))
                lines += _summary(name, help_text, total, count)
            else:
                lines += _family(name, "counter", help_text, snapshot.get(name, {}))
        return "\n".join(lines) + "\n"


def gauge(name: str, help_text: str, value: float, **labels: object) -> str:
    key = tuple(sorted((k, str(v)) for k, v in labels.items()))
    return "\n".join(_family(name, "gauge", help_text, {key: value})) + "\n"


def _family(name, kind, help_text, series) -> Iterable[str]:
    yield from _header(name, kind, help_text)
    for key, value in sorted(series.items()):
        label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
        yield (
            f"{name}{{{label_text}}} {_number(value)}" if label_text else f"{name} {_number(value)}"
        )


def _summary(name: str, help_text: str, total: float, count: float) -> Iterable[str]:
    yield from _header(name, "summary", help_text)
    yield f"{name}_sum {_number(total)}"
    yield f"{name}_count {_number(count)}"


def _header(name: str, kind: str, help_text: str) -> Iterable[str]:
    if help_text:
        yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} {kind}"


def _number(value: float) -> str:
    """Exact: 1234567, not the 1.23457e+06 of `:g`, which would freeze a counter's rate."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


METRICS = Metrics()
METRICS.describe(
    "gridbot_handler_seconds",
    "Time a message kept a handler thread (its handling, database included).",
    summary=True,
)
METRICS.describe(
    "gridbot_answer_seconds",
    "Time from a message's arrival at the webhook to its answer (a reply or success). "
    "While nothing is parked, minus the handler's time: on average, the wait for a "
    "handler thread.",
    summary=True,
)
METRICS.describe("gridbot_messages_in_total", "Inbound messages handled, by type.")
METRICS.describe("gridbot_handler_errors_total", "Inbound messages whose handler failed.")
METRICS.describe(
    "gridbot_messages_parked_total",
    "Messages acknowledged before their answer was ready (answered late).",
)
METRICS.describe("gridbot_outbox_sent_total", "Notices delivered, by route.")
METRICS.describe("gridbot_outbox_failed_total", "Failed send attempts, by WeChat errcode.")
METRICS.describe("gridbot_outbox_dead_total", "Notices given up on, by last errcode.")
METRICS.describe("gridbot_outbox_held_total", "Notices held for the next reply, by errcode.")
METRICS.describe("gridbot_channel_paused_total", "Channel-wide pauses after rate limits.")
METRICS.describe(
    "gridbot_outbox_duplicate_sends_total", "Notices sent twice because a lease ran out."
)
METRICS.describe("gridbot_token_refreshes_total", "access_token fetches (stable_token).")
METRICS.describe("gridbot_bind_failures_total", "绑定 attempts with a code that is no invite.")
METRICS.describe(
    "gridbot_bind_cooldowns_total", "绑定 attempts refused: too many wrong codes within an hour."
)
