"""Benchmarks: `uv run python -m bench [name ...] [--smoke]`.

A benchmark is a function that takes a `Context` and returns `Row`s; registering it is
one decorator in any top-level module of this package (the runner imports them all):

    from bench import Context, Row, benchmark

    @benchmark("escalation_sweep", "one sweep over a year of tickets")
    def escalation_sweep(ctx: Context) -> list[Row]:
        tickets = ctx.size(full=1_000_000, smoke=2_000)
        with ctx.database("postgres") as url:
            ...
        return [Row("postgres", {"tickets": tickets, "sweep_s": 1.9}, target="< 5 s: met")]

`ctx.smoke` runs must take seconds (CI runs every benchmark that way). A Row with `failed`
set (a correctness check, not a missed speed target) makes the run exit non-zero.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Row:
    """One line of the results table."""

    variant: str
    figures: dict[str, object]
    ratio: str = ""
    """How this variant compares with the benchmark's reference, e.g. "0.46x (b)"."""
    target: str = ""
    """The target and whether it was met, e.g. "p99 < 50 ms: missed"."""
    failed: str = ""
    """Non-empty when a correctness check failed (lost reports, duplicates): exit 1."""
    bench: str = ""
    """Filled in by the runner."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    help: str
    run: Callable[[Context], list[Row]]


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, help: str = "") -> Callable:
    """Register `fn(ctx) -> list[Row]` under `name` (run by `python -m bench name`)."""

    def register(fn: Callable[[Context], list[Row]]) -> Callable[[Context], list[Row]]:
        if name in REGISTRY and REGISTRY[name].run is not fn:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, help or (fn.__doc__ or "").strip().split("\n")[0], fn)
        return fn

    return register


PG_ADMIN = os.environ.get("GRIDBOT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Context:
    """What a benchmark gets: the size switch, a scratch directory and temporary databases."""

    smoke: bool = False
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gridbot-bench-")))
    options: dict[str, str] = field(default_factory=dict)
    """`--set key=value` from the command line, for one-off sizes without editing code."""

    def size(self, full: int | float, smoke: int | float) -> int | float:
        """`smoke` in a smoke run, else `full`."""
        return smoke if self.smoke else full

    def option(self, key: str, default: int | float | str) -> int | float | str:
        """`--set key=value` converted to the type of `default`, else `default`."""
        if key not in self.options:
            return default
        return type(default)(self.options[key])

    @contextmanager
    def database(self, kind: str, *, migrate: bool = True) -> Iterator[str]:
        """A fresh, empty database URL ("sqlite" or "postgres"), dropped afterwards.

        PostgreSQL databases are created on the local server (GRIDBOT_BENCH_PG, default
        postgresql://postgres@127.0.0.1:5432/postgres) under a unique name, and kept for
        looking at by hand with `--set keep_db=1`.
        """
        from bench.databases import temporary_database

        keep = str(self.option("keep_db", "")) not in ("", "0")  # --set keep_db=1
        with temporary_database(kind, self.workdir, migrate=migrate, keep=keep) as url:
            yield url

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


# -- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def cpu_figures(ms: Sequence[float]) -> dict[str, float]:
    """The CPU figures of per-message samples in milliseconds: median and p90 (NaN if none)."""
    if not ms:
        return {"cpu ms median": float("nan"), "cpu ms p90": float("nan")}
    return {"cpu ms median": median(ms), "cpu ms p90": percentile(ms, 90)}
