"""A CI-sized soak (bench/soak.py has the full one): messages delivered up to three times
at once, a fake WeChat failing a fifth of sends in every way it can. Prints the counts."""

from bench.soak import problems, soak


def test_soak_loses_nothing_and_duplicates_nothing(db_url):
    counts = soak(db_url, riders=120, failing_share=0.2, deadline_s=45)
    print("\n" + "\n".join(f"{k:>34}: {v}" for k, v in counts.items()))
    assert problems(counts) == []
    assert counts["tickets"] == 120
    assert counts["notices_sent"] == counts["notices_owed"] == 240
    assert counts["api_resends_refused"] > 0  # the at-least-once window was exercised
    assert counts["token_fetches_before_expiry"] >= 1
    assert counts["token_fetches_after_expiry"] >= 1  # refreshed after tokens expired mid-run
