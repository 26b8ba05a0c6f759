"""Process-local counters and summaries, exposed in the Prometheus text format (by
prometheus_client) for GET /metrics.

They live in the process that counted them (with `serve --workers N` each worker
has its own; Prometheus sums them by scraping each, or an operator reads one worker's
view). Database-wide figures (backlog, oldest pending age) are read at scrape time, so
they are the same whichever process answers.

Label values are bounded: a counter keeps at most MAX_SERIES label sets; later new values
are counted under "other", so no sender can grow the scrape without limit.
"""

from __future__ import annotations

import threading

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Summary,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

disable_created_metrics()  # no `_created` series: they would double every family for nothing

MAX_SERIES = 50
OTHER = "other"

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "shortvideo", "location", "link", "file", "event"}
)
EVENTS = frozenset(
    {
        "subscribe",
        "unsubscribe",
        "scan",
        "location",
        "click",
        "view",
        "view_miniprogram",
        "templatesendjobfinish",
        "masssendjobfinish",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)
"""WeChat's message types and events; anything else is labelled "other"."""


def type_label(kind: str, event: str | None) -> str:
    """The `type` label of a message: its MsgType, or event:<Event>, bounded."""
    if kind != "event":
        return kind if kind in MESSAGE_TYPES else OTHER
    return f"event:{event if event in EVENTS else OTHER}"


class Metrics:
    """Named counters (with label names fixed when declared) and summaries (the sum and
    count of observed durations); thread-safe; `render` gives Prometheus text."""

    def __init__(self, *, max_series: int = MAX_SERIES) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.max_series = max_series
        self._lock = threading.Lock()
        self._counters: dict[str, Counter] = {}
        self._labels: dict[str, tuple[str, ...]] = {}
        self._series: dict[str, set[tuple[str, ...]]] = {}
        self._summaries: dict[str, Summary] = {}

    def add_counter(self, name: str, help_text: str, *labels: str) -> None:
        """Declare counter `name` (ending in _total) with these label names."""
        base = name.removesuffix("_total")
        self._counters[name] = Counter(base, help_text, labels, registry=self.registry)
        self._labels[name] = labels
        self._series[name] = set()

    def add_summary(self, name: str, help_text: str) -> None:
        """Declare summary `name`: rendered as `name_sum` and `name_count`."""
        self._summaries[name] = Summary(name, help_text, registry=self.registry)

    def inc(self, name: str, amount: float = 1.0, **labels: object) -> None:
        counter = self._counters[name]
        if not self._labels[name]:
            counter.inc(amount)
            return
        counter.labels(*self._bounded(name, labels)).inc(amount)

    def observe(self, name: str, seconds: float) -> None:
        """One observation of summary `name`."""
        self._summaries[name].observe(seconds)

    def value(self, name: str, **labels: object) -> float:
        """The count of counter `name` for these label values (0 if never counted)."""
        wanted = {k: str(v) for k, v in labels.items()}
        for family in self._counters[name].collect():
            for sample in family.samples:
                if sample.name == name and sample.labels == wanted:
                    return sample.value
        return 0.0

    def summary(self, name: str) -> tuple[float, int]:
        """(sum, count) of summary `name`."""
        samples = {s.name: s.value for m in self._summaries[name].collect() for s in m.samples}
        return samples[f"{name}_sum"], int(samples[f"{name}_count"])

    def render(self) -> str:
        return generate_latest(self.registry).decode()

    def _bounded(self, name: str, labels: dict[str, object]) -> tuple[str, ...]:
        values = tuple(str(labels[k]) for k in self._labels[name])
        series = self._series[name]
        if values in series:
            return values
        with self._lock:
            if values not in series and len(series) >= self.max_series:
                values = (OTHER,) * len(values)
            series.add(values)
        return values


def gauges(*families: tuple[str, str, dict[tuple[tuple[str, str], ...], float]]) -> str:
    """Prometheus text for gauges read at scrape time: (name, help, {labels: value})."""
    registry = CollectorRegistry(auto_describe=False)

    class _Now:
        def collect(self):
            for name, help_text, series in families:
                label_names = [k for k, _ in next(iter(series))] if series else []
                family = GaugeMetricFamily(name, help_text, labels=label_names)
                for key, value in series.items():
                    family.add_metric([v for _, v in key], value)
                yield family

    registry.register(_Now())
    return generate_latest(registry).decode()


METRICS = Metrics()
METRICS.add_summary(
    "gridbot_handler_seconds",
    "Time a message kept a handler thread (its handling, database included).",
)
METRICS.add_summary(
    "gridbot_answer_seconds",
    "Time from a message's arrival at the webhook to its answer (a reply or success). "
    "While nothing is parked, minus the handler's time: on average, the wait for a "
    "handler thread.",
)
METRICS.add_counter("gridbot_messages_in_total", "Inbound messages handled, by type.", "type")
METRICS.add_counter(
    "gridbot_handler_errors_total", "Inbound messages whose handler failed.", "type"
)
METRICS.add_counter(
    "gridbot_handler_yields_total",
    "Messages whose handler first waited for the lagging event loop (acknowledging first).",
)
METRICS.add_counter(
    "gridbot_messages_parked_total",
    "Messages acknowledged before their answer was ready (answered late).",
)
METRICS.add_counter(
    "gridbot_messages_spooled_total",
    "Messages kept in the local spool because the database was unavailable.",
)
METRICS.add_counter(
    "gridbot_spool_replayed_total", "Kept messages replayed once the database was back."
)
METRICS.add_counter("gridbot_outbox_sent_total", "Notices delivered, by route.", "via")
METRICS.add_counter(
    "gridbot_outbox_failed_total", "Failed send attempts, by WeChat errcode.", "errcode"
)
METRICS.add_counter("gridbot_outbox_dead_total", "Notices given up on, by last errcode.", "errcode")
METRICS.add_counter(
    "gridbot_outbox_held_total", "Notices held for the next reply, by errcode.", "errcode"
)
METRICS.add_counter(
    "gridbot_channel_paused_total", "Channel-wide pauses after rate limits.", "errcode"
)
METRICS.add_counter(
    "gridbot_outbox_duplicate_sends_total", "Notices sent twice because a lease ran out."
)
METRICS.add_counter(
    "gridbot_token_refreshes_total", "access_token fetches (stable_token).", "force"
)
METRICS.add_counter("gridbot_bind_failures_total", "绑定 attempts with a code that is no invite.")
METRICS.add_counter(
    "gridbot_bind_cooldowns_total", "绑定 attempts refused: too many wrong codes within an hour."
)
