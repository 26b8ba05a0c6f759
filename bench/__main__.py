"""`uv run python -m bench [name ...] [--smoke] [--list] [--set key=value] [--json out.json]`."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from datetime import UTC, datetime

import bench
from bench import REGISTRY, Context, Row


def discover() -> None:
    """Import every top-level module of the package: each registers its benchmarks."""
    for info in pkgutil.iter_modules(bench.__path__):
        if not info.ispkg and not info.name.startswith("_"):
            importlib.import_module(f"bench.{info.name}")


def fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 1:
            return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
        return f"{value:.3g}"
    return str(value)


def format_row(row: Row) -> str:
    figures = "  ".join(f"{k}={fmt(v)}" for k, v in row.figures.items())
    line = f"{row.bench:<10} {row.variant:<26} {figures}"
    if row.ratio:
        line += f"  | {row.ratio}"
    if row.target:
        line += f"  | target {row.target}"
    if row.failed:
        line += f"  | FAILED: {row.failed}"
    return line


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs · {mem_gb:.1f} GB · "
        f"Python {platform.python_version()} · {platform.system()} {platform.release()} · "
        f"load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds in all")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a benchmark option"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)

    discover()
    if args.list:
        for b in REGISTRY.values():
            print(f"{b.name:<18} {b.help}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; try --list")
    options = dict(item.split("=", 1) for item in args.set)
    ctx = Context(smoke=args.smoke, options=options)
    print(f"# {machine()}{' · smoke' if args.smoke else ''}", flush=True)
    rows: list[Row] = []
    try:
        for name in args.names or list(REGISTRY):
            started = time.perf_counter()
            print(f"## {name} ...", flush=True)
            try:
                got = REGISTRY[name].run(ctx)
            except Exception as exc:
                traceback.print_exc()
                got = [Row("error", {}, failed=f"{type(exc).__name__}: {exc}")]
            for row in got:
                row.bench = name
                print(format_row(row), flush=True)
            print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
            rows += got
    finally:
        if str(ctx.option("keep_db", "")) in ("", "0"):
            ctx.cleanup()
        else:  # servers' logs and databases, for looking at by hand
            print(f"kept {ctx.workdir}")
    print("\n# results")
    for row in rows:
        print(format_row(row))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {"machine": machine(), "rows": [row.__dict__ for row in rows]},
                out,
                ensure_ascii=False,
                indent=1,
                default=str,
            )
    failed = [row for row in rows if row.failed]
    if failed:
        print(f"\n{len(failed)} row(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
