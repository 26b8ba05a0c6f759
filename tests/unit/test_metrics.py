"""The Prometheus text an operator's scraper reads."""

from bot.metrics import Metrics


def test_a_large_counter_renders_exactly_so_its_rate_keeps_moving():
    metrics = Metrics()
    metrics.inc("gridbot_messages_in_total", 1_234_567, type="text")
    body = metrics.render()
    assert 'gridbot_messages_in_total{type="text"} 1234567\n' in body
    metrics.inc("gridbot_messages_in_total", type="text")
    assert 'gridbot_messages_in_total{type="text"} 1234568\n' in metrics.render()


def test_a_summary_renders_its_sum_and_count_even_before_the_first_observation():
    metrics = Metrics()
    metrics.describe("gridbot_handler_seconds", "Handling time.", summary=True)
    assert metrics.render().splitlines() == [
        "# HELP gridbot_handler_seconds Handling time.",
        "# TYPE gridbot_handler_seconds summary",
        "gridbot_handler_seconds_sum 0",
        "gridbot_handler_seconds_count 0",
    ]
    metrics.observe("gridbot_handler_seconds", 0.25)
    metrics.observe("gridbot_handler_seconds", 0.0123)
    assert metrics.summary("gridbot_handler_seconds") == (0.2623, 2)
    body = metrics.render()
    assert "gridbot_handler_seconds_sum 0.2623\n" in body
    assert "gridbot_handler_seconds_count 2\n" in body
