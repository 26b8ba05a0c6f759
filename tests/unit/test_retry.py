"""Retry timing shared by the outbox sender and the photo pipeline."""

from app.domain.retry import backoff


def test_backoff_doubles_with_jitter_and_stops_at_the_cap():
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (12, 600)]:
        waits = [backoff(attempt).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (attempt, min(waits), max(waits))
    assert backoff(1, first=5.0).total_seconds() >= 2.5
    assert backoff(3, unit=0.001).total_seconds() <= 0.008
