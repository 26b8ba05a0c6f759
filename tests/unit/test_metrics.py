"""The Prometheus text an operator's scraper reads."""

from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics, type_label
from tests.prometheus import sample


def test_a_large_counter_renders_exactly_so_its_rate_keeps_moving():
    metrics = Metrics()
    metrics.add_counter("gridbot_messages_in_total", "Inbound messages.", "type")
    metrics.inc("gridbot_messages_in_total", 1_234_567, type="text")
    assert sample(metrics.render(), "gridbot_messages_in_total", type="text") == 1234567
    metrics.inc("gridbot_messages_in_total", type="text")
    assert sample(metrics.render(), "gridbot_messages_in_total", type="text") == 1234568


def test_a_summary_renders_its_sum_and_count_even_before_the_first_observation():
    metrics = Metrics()
    metrics.add_summary("gridbot_handler_seconds", "Handling time.")
    body = metrics.render()
    assert "# HELP gridbot_handler_seconds Handling time.\n" in body
    assert "# TYPE gridbot_handler_seconds summary\n" in body
    assert sample(body, "gridbot_handler_seconds_sum") == 0
    assert sample(body, "gridbot_handler_seconds_count") == 0
    metrics.observe("gridbot_handler_seconds", 0.25)
    metrics.observe("gridbot_handler_seconds", 0.0123)
    assert metrics.summary("gridbot_handler_seconds") == (0.2623, 2)
    body = metrics.render()
    assert sample(body, "gridbot_handler_seconds_sum") == 0.2623
    assert sample(body, "gridbot_handler_seconds_count") == 2
    assert "_created" not in body


def test_item_12_label_values_are_bounded():
    metrics = Metrics(max_series=3)
    metrics.add_counter("gridbot_outbox_failed_total", "Failed sends.", "errcode")
    for code in range(10):
        metrics.inc("gridbot_outbox_failed_total", errcode=code)
    metrics.inc("gridbot_outbox_failed_total", errcode=1)
    body = metrics.render()
    (family,) = text_string_to_metric_families(body)
    assert {s.labels["errcode"] for s in family.samples} == {"0", "1", "2", "other"}
    assert sample(body, "gridbot_outbox_failed_total", errcode="1") == 2
    assert sample(body, "gridbot_outbox_failed_total", errcode="other") == 7


def test_item_12_unknown_message_types_and_events_are_other():
    assert type_label("text", None) == "text"
    assert type_label("event", "subscribe") == "event:subscribe"
    assert type_label("x" * 30, None) == "other"
    assert type_label("event", "x" * 30) == "event:other"
