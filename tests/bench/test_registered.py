"""The standalone benchmark scripts are registered in the frame and their checks hold."""

from __future__ import annotations

from bench import REGISTRY, Context
from bench.__main__ import discover
from bench.photo_pipeline import check, photo_like_12mp


def test_the_scripts_are_registered_benchmarks():
    discover()
    assert {"escalation_sweep", "digest", "photo_pipeline", "photo_memory"} <= set(REGISTRY)


def test_photo_pipeline_output_passes_its_check():
    assert check(photo_like_12mp(1.0)) == ""


def test_photo_pipeline_smoke_rows_state_the_target():
    ctx = Context(smoke=True, options={"megapixels": "0.5", "runs": "1"})
    try:
        rows = REGISTRY["photo_pipeline"].run(ctx)
    finally:
        ctx.cleanup()
    assert rows and not any(r.failed for r in rows)
    assert rows[0].target.startswith("< 150 ms") and rows[0].target.endswith(("met", "MISSED"))
