"""Webhook throughput and latency: gridbot's full inbound path against its ceilings.

Seven servers run side by side, each a real uvicorn subprocess with one worker and the
settings `gridbot serve` uses:

- (a) a bare FastAPI route that reads the body and answers "success";
- (b) wechatpy: msg_signature, decrypt, parse, encrypted passive reply, no database;
- (c) gridbot's own app with a handler that answers at once, without the database
  (bench/apps/gridbot_no_handler.py): what gridbot's web layer costs by itself;
- gridbot on SQLite and on PostgreSQL (`gridbot serve`, safe mode, demo district): the
  signature, timestamp and replay checks, decrypt, parse, inbox dedup insert, handler,
  ticket write with its event and outbox notice, encrypted passive reply.
- the reference implementation on SQLite and on PostgreSQL (bench/apps/reference.py, issue
  20): FastAPI + wechatpy + the SQLAlchemy ORM, one commit per message, the same durable
  work without gridbot's extras; rows "gridbot / reference" give the medians of the
  per-round ratios of req/s, server CPU per request and paced p99.

The load generator (bench/loadgen.py, its own process) sends the same kind of traffic to
each: riders' reports, a text then a location, distinct MsgIds, so every second request
files a ticket. Targets are taken in turn, for several rounds, so that noise from other
work on the machine falls on all of them alike; figures are medians over the rounds.
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
from shapely.geometry import shape

from bench import Context, Row, benchmark, loadgen, median, met, percentile
from bench.databases import seed_demo, seed_demo_at
from bench.servers import (
    SIM,
    bench_app_env,
    cpu_seconds,
    free_port,
    gridbot_at,
    gridbot_command,
    gridbot_command_at,
    gridbot_env,
    running,
    uvicorn_command,
    uvicorn_command_at,
)


@dataclass
class Target:
    key: str
    label: str
    reuse: bool
    """Requests may be sent again (no dedup on the other side)."""
    checks_replies: bool = False
    pool_scale: int = 1
    """Requests generated, in multiples of `pool`: a fast target without reuse needs more."""
    gridbot: bool = False
    """gridbot itself (has /readyz and /metrics; its outbox is drained between runs)."""
    results: list[dict] = field(default_factory=list)
    paced: list[dict] = field(default_factory=list)


def demo_points() -> list[list[float]]:
    """A point inside each demo grid, in GCJ-02 as WeChat sends locations."""
    from app.demo.seed import DISTRICT
    from app.domain.coords import wgs84_to_gcj02

    features = json.loads(DISTRICT.read_text(encoding="utf-8"))["features"]
    points = []
    for f in features:
        if f["properties"]["level"] == "grid":
            p = shape(f["geometry"]).representative_point()
            points.append(list(wgs84_to_gcj02(p.y, p.x)))
    return points


@benchmark("webhook", "full inbound path (safe mode) vs bare FastAPI and wechatpy-only")
def webhook(ctx: Context) -> list[Row]:
    duration = float(ctx.option("duration", ctx.size(6.0, 1.2)))
    warmup = float(ctx.option("warmup", ctx.size(1.5, 0.3)))
    rounds = int(ctx.option("rounds", ctx.size(3, 1)))
    connections = int(ctx.option("connections", ctx.size(50, 8)))
    # Reports generated per gridbot run: a bound on what it can be sent in `duration`.
    pool = int(ctx.option("pool", ctx.size(6000, 400)))
    # The paced run: `rate` requests/s (half of them reports' texts, half their locations).
    rate = float(ctx.option("rate", ctx.size(100.0, 40.0)))
    paced_s = float(ctx.option("paced_duration", ctx.size(6.0, 1.0)))
    points = demo_points()
    targets = [
        Target("a", "(a) bare FastAPI", reuse=True),
        Target("b", "(b) wechatpy, no db", reuse=True),
        # Unique requests: gridbot's replay check refuses a delivery seen before.
        Target("c", "(c) gridbot, no-op handler", reuse=False, pool_scale=3),
        Target("sqlite", "gridbot sqlite", reuse=False, checks_replies=True, gridbot=True),
        Target("postgres", "gridbot postgres", reuse=False, checks_replies=True, gridbot=True),
        # The straightforward implementation of the same durable work (issue 20).
        Target("ref-sqlite", "reference sqlite", reuse=False, checks_replies=True),
        Target("ref-postgres", "reference postgres", reuse=False, checks_replies=True),
    ]
    # --set compare=<git ref>: also serve gridbot as it was at that commit, side by side.
    compare = str(ctx.option("compare", ""))
    if compare:
        targets += [
            Target(f"c@{compare}", f"(c) gridbot, no-op handler @{compare}", False, pool_scale=3),
            Target(f"sqlite@{compare}", f"gridbot sqlite @{compare}", False, True, gridbot=True),
            Target(
                f"postgres@{compare}", f"gridbot postgres @{compare}", False, True, gridbot=True
            ),
        ]
    # --set only=sqlite (comma-separated a, b, c, sqlite, postgres, ref-sqlite,
    # ref-postgres): those targets alone,
    # each with its @compare twin; an A/B of one database takes a fraction of the time.
    only = {k.strip() for k in str(ctx.option("only", "")).split(",") if k.strip()}
    if only:
        targets = [t for t in targets if t.key.partition("@")[0] in only]
    with ExitStack() as stack:
        servers = {}
        ports = {t.key: free_port() for t in targets}
        gridbot_targets = [t for t in targets if t.gridbot]
        for t in gridbot_targets:
            kind, _, ref = t.key.partition("@")
            # An older tree migrates and seeds its database itself: it would not know
            # this tree's newer migrations.
            url = stack.enter_context(ctx.database(kind, migrate=not ref))
            command, extra_env = gridbot_command(ports[t.key]), {}
            if ref:
                tree = gridbot_at(ref, ctx.workdir)
                seed_demo_at(tree, url)
                command, extra_env = gridbot_command_at(tree, ports[t.key])
            else:
                seed_demo(url)
            servers[t.key] = stack.enter_context(
                running(
                    f"gridbot-{kind}{'-' + ref if ref else ''}",
                    command,
                    port=ports[t.key],
                    workdir=ctx.workdir,
                    # ack_budget_seconds=0: every answer is the full path, passive;
                    # none is acknowledged early and answered later (see README).
                    env={**gridbot_env(url, ctx.workdir, ack_budget_seconds=0), **extra_env},
                    wait=False,
                )
            )
        # The reference apps. (c) is gridbot's app on a database of its own (seeded, never
        # written: its handler does not reach it), so that nothing it holds open can
        # touch the SQLite target's file.
        references = {
            key: (name, uvicorn_command(app, ports[key]), env)
            for key, name, app, env in (
                ("a", "bare", "bench.apps.bare:app", {}),
                ("b", "wechatpy", "bench.apps.wechatpy_reply:app", bench_app_env()),
            )
            if key in ports
        }
        no_handler = "bench.apps.gridbot_no_handler:app"
        for key in [k for k in ports if k.partition("@")[0] == "c"]:
            ref = key.partition("@")[2]
            idle_url = stack.enter_context(ctx.database("sqlite", migrate=not ref))
            data = ctx.workdir / f"data-{key.replace('@', '-')}"
            env = gridbot_env(idle_url, data, ack_budget_seconds=0)
            if ref:
                tree = gridbot_at(ref, ctx.workdir)
                seed_demo_at(tree, idle_url)
                command = uvicorn_command_at(tree, no_handler, ports[key])
                env["PYTHONPATH"] = str(tree)
            else:
                seed_demo(idle_url)
                command = uvicorn_command(no_handler, ports[key])
            references[key] = (f"gridbot-no-handler{'-' + ref if ref else ''}", command, env)
        for kind in ("sqlite", "postgres"):
            if f"ref-{kind}" in ports:
                ref_url = stack.enter_context(ctx.database(kind, migrate=False))
                env = {**bench_app_env(), "BENCH_REFERENCE_DATABASE_URL": ref_url}
                app = uvicorn_command("bench.apps.reference:app", ports[f"ref-{kind}"])
                references[f"ref-{kind}"] = (f"reference-{kind}", app, env)
        for key, (name, command, env) in references.items():
            servers[key] = stack.enter_context(
                running(
                    name,
                    command,
                    port=ports[key],
                    workdir=ctx.workdir,
                    env=env,
                    wait=False,
                )
            )
        for server in servers.values():
            server.wait_ready()
        for r in range(rounds):
            for t in targets[r % len(targets) :] + targets[: r % len(targets)]:
                spec = {
                    "mode": "closed",
                    "host": "127.0.0.1",
                    "port": ports[t.key],
                    "sim": SIM,
                    "points": points,
                    "prefix": f"rider-{r}{t.key.replace('@', '')}-",
                    "seed": r,
                    "connections": connections,
                    "duration": duration,
                    "warmup": warmup,
                    "pool": pool * t.pool_scale if not t.reuse else min(pool, 2000),
                    "reuse": t.reuse,
                    "check_replies": t.checks_replies,
                }
                pids = servers[t.key].pids()
                cpu_before = cpu_seconds(pids)
                result = loadgen.run(spec, timeout=duration + 120)
                # Server CPU per answered request, over the whole run (warm-up included).
                result["cpu_ms"] = (
                    (cpu_seconds(pids) - cpu_before) * 1000 / max(result["total_requests"], 1)
                )
                if t.gridbot:
                    # The closed loop leaves notices to send (one per ticket). Draining them
                    # would fall on the next measurement, of this target or another.
                    result["drain_s"] = wait_for_outbox(servers[t.key].url)
                t.results.append(result)
                # Latency at a fixed offered rate (open loop), below saturation.
                paced = {
                    **spec,
                    "mode": "storm",
                    "prefix": f"paced-{r}{t.key.replace('@', '')}-",
                    "reports": max(int(rate / 2 * paced_s), 1),
                    "riders": max(int(rate / 2 * paced_s), 1),
                    "duration": paced_s,
                    "max_copies": 1,
                    "copy_spread": 0.0,
                    "think": (0.0, 0.0),
                    "connections_max": connections,
                }
                before = timing(servers[t.key].url) if t.gridbot else None
                t.paced.append(loadgen.run(paced, timeout=paced_s + 120))
                if before is not None:
                    t.paced[-1]["timing"] = timing_delta(before, timing(servers[t.key].url))
                if t.gridbot:
                    wait_for_outbox(servers[t.key].url)
    return rows_for(targets, connections, rate)


TIMING = (
    "gridbot_handler_seconds_sum",
    "gridbot_handler_seconds_count",
    "gridbot_answer_seconds_sum",
    "gridbot_answer_seconds_count",
)


def timing(url: str) -> dict[str, float] | None:
    """The server's handler and answer time summaries (None from a tree without them)."""
    found = {}
    for line in httpx.get(url + "/metrics", timeout=10.0).text.splitlines():
        name, _, value = line.partition(" ")
        if name in TIMING:
            found[name] = float(value)
    return found if len(found) == len(TIMING) else None


def timing_delta(before: dict | None, after: dict | None) -> dict[str, float] | None:
    """Mean handling and mean wait for a handler (answer minus handling), in ms, between
    two scrapes."""
    if before is None or after is None:
        return None
    d = {k: after[k] - before[k] for k in TIMING}
    handled, answered = d["gridbot_handler_seconds_count"], d["gridbot_answer_seconds_count"]
    if not handled or not answered:
        return None
    handling = d["gridbot_handler_seconds_sum"] / handled
    return {
        "handling_ms": handling * 1000,
        "wait_ms": (d["gridbot_answer_seconds_sum"] / answered - handling) * 1000,
    }


def wait_for_outbox(url: str, timeout: float = 180.0) -> float:
    """Seconds until the server's outbox has nothing pending (its /readyz backlog); the
    timeout when it never empties."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        outbox = httpx.get(url + "/readyz", timeout=10.0).json().get("outbox")
        if not outbox or not outbox.get("pending"):
            break
        time.sleep(0.2)
    return time.monotonic() - start


def summary(t: Target) -> dict:
    rps = [r["rps"] for r in t.results]
    p50 = [percentile(r["latencies"], 50) * 1000 for r in t.results]
    p99 = [percentile(r["latencies"], 99) * 1000 for r in t.results]
    return {
        "req/s": median(rps),
        "req/s range": f"{min(rps):.0f}-{max(rps):.0f}",
        "p50 ms": median(p50),
        "p99 ms": median(p99),
        "server cpu ms/req": median([r["cpu_ms"] for r in t.results]),
        **({"outbox drain s": median([r["drain_s"] for r in t.results])} if t.gridbot else {}),
        "paced p50 ms": median([percentile(r["latencies"], 50) * 1000 for r in t.paced]),
        "paced p99 ms": median([percentile(r["latencies"], 99) * 1000 for r in t.paced]),
        **_paced_timing(t),
    }


def _paced_timing(t: Target) -> dict:
    """Of a paced answer's mean time, how much was handling and how much waiting for a
    handler thread (from the server's /metrics; nothing for a tree without them)."""
    found = [r["timing"] for r in t.paced if r.get("timing")]
    if not found:
        return {}
    return {
        "paced handling ms": median([f["handling_ms"] for f in found]),
        "paced wait ms": median([f["wait_ms"] for f in found]),
    }


def rows_for(targets: list[Target], connections: int, rate: float) -> list[Row]:
    b = next((t for t in targets if t.key == "b"), None)
    base_rps = summary(b)["req/s"] if b is not None else 0.0
    rows = []
    for t in targets:
        s = summary(t)
        share = s["req/s"] / base_rps if base_rps else float("nan")
        failed = []
        errors = sum(r["error_count"] + r["non_200"] for r in t.results)
        errors += sum(r["failures"] for r in t.paced)
        if errors:
            # What failed, so that a rare failure can be looked into from the run's output.
            statuses = sorted({st for r in t.results for st in r.get("statuses", [])})
            samples = [e for r in t.results for e in r["errors"]]
            samples = (samples + [e for r in t.paced for e in r["failure_samples"]])[:3]
            failed.append(f"{errors} failed requests (statuses {statuses}, errors {samples})")
        if any(r["exhausted"] for r in t.results):
            s["note"] = "request pool ran out: raise --set pool="
        target = ""
        if t.checks_replies:
            unfiled = sum(r["location_replies"] - (r["filed"] or 0) for r in t.results)
            if unfiled:
                failed.append(f"{unfiled} reports answered without a ticket")
        if t.gridbot:
            limit = P99_TARGET_MS[t.key.partition("@")[0]]
            target = f"paced p99 < {limit:.0f} ms: {met(s['paced p99 ms'] < limit)}"
        if t.key.partition("@")[0] == "c" and b is not None:
            cpu = median(per_round(t, b, cpu_ms))
            s["cpu vs (b)"] = cpu
            target = f"cpu <= {WEB_LAYER_CPU:.1f}x (b): {met(cpu <= WEB_LAYER_CPU)}"
        rows.append(
            Row(
                t.label,
                {**s, "conns": connections, "paced req/s": rate},
                ratio=f"{share:.2f}x (b)" if base_rps else "",
                target=target,
                failed="; ".join(failed),
            )
        )
    by_key = {t.key: t for t in targets}
    for kind in ("sqlite", "postgres"):
        ours, ref = by_key.get(kind), by_key.get(f"ref-{kind}")
        if ours is not None and ref is not None:
            rows.append(versus_reference(kind, ours, ref))
    return rows


P99_TARGET_MS = {"sqlite": 30.0, "postgres": 50.0}
"""Issue 20, target 4: paced p99 at 100 req/s."""
MIN_RPS_RATIO, MAX_CPU_RATIO = 2.0, 0.5
"""Issue 20, target 2: gridbot / the reference implementation."""
WEB_LAYER_CPU = 1.3
"""Issue 20, target 3: (c)'s CPU per request / (b)'s."""


def cpu_ms(t: Target, r: int) -> float:
    return t.results[r]["cpu_ms"]


def rps(t: Target, r: int) -> float:
    return t.results[r]["rps"]


def paced_p99(t: Target, r: int) -> float:
    return percentile(t.paced[r]["latencies"], 99) * 1000


def per_round(ours: Target, ref: Target, figure) -> list[float]:
    """ours / ref for each round (both measured in it, one after the other)."""
    rounds = min(len(ours.results), len(ref.results), len(ours.paced), len(ref.paced))
    return [figure(ours, r) / max(figure(ref, r), 1e-9) for r in range(rounds)]


def versus_reference(kind: str, ours: Target, ref: Target) -> Row:
    """gridbot / the reference implementation on one database: medians of the per-round
    ratios of req/s, server CPU per request and paced p99."""
    ratios = {
        "req/s": per_round(ours, ref, rps),
        "cpu ms/req": per_round(ours, ref, cpu_ms),
        "paced p99": per_round(ours, ref, paced_p99),
    }
    figures = {f"{k} ratio": median(v) for k, v in ratios.items()}
    figures |= {f"{k} ratio range": f"{min(v):.2f}-{max(v):.2f}" for k, v in ratios.items()}
    ok_rps = figures["req/s ratio"] >= MIN_RPS_RATIO
    ok_cpu = figures["cpu ms/req ratio"] <= MAX_CPU_RATIO
    return Row(
        f"gridbot / reference {kind}",
        figures,
        ratio=f"{figures['req/s ratio']:.2f}x req/s, {figures['cpu ms/req ratio']:.2f}x cpu",
        target=(
            f"req/s >= {MIN_RPS_RATIO:.1f}x: {met(ok_rps)}; "
            f"cpu <= {MAX_CPU_RATIO:.1f}x: {met(ok_cpu)}"
        ),
    )
