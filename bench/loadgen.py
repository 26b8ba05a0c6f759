"""A load generator in its own process: `python -m bench.loadgen < spec.json > result.json`.

It plays WeChat's servers: every request is built and signed by `bot.simulator` (safe mode:
AES ciphertext, msg_signature) before the clock starts, and sent over keep-alive HTTP/1.1
connections by a minimal asyncio client (httpx costs more CPU per request than the servers
under test on a small machine, which would measure the client instead).

Two modes, both made of "reports" — a rider's text, then their location (the pair a ticket
needs):

- closed: `connections` loops, each sending one report after another as fast as answers
  come, for `duration` seconds; figures after `warmup` seconds. Throughput at saturation.
- storm: `reports` reports from `riders` riders, started at random moments within
  `duration` seconds (open loop); every message delivered 1..`max_copies` times, the copies
  `copy_spread` seconds apart at most, while the first is in flight, as WeChat's retries.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bot.simulator import SimulatedRequest, WeChatSimulator

REPORT_TEXT = "路口积水很深，电动车过不去"
TICKET_NUMBER = re.compile(r"工单号 #(\d+)")


# -- HTTP ----------------------------------------------------------------------------------


def raw_request(host: str, port: int, path: str, req: SimulatedRequest) -> bytes:
    head = (
        f"POST {path}?{urlencode(req.params)} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: text/xml\r\n"
        f"Content-Length: {len(req.body)}\r\n\r\n"
    )
    return head.encode() + req.body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """(status, body). A keep-alive connection the server closed meanwhile is reopened."""
        reused = self.writer is not None
        if not reused:
            await self._open()
        try:
            return await self._exchange(raw)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        await self._open()
        try:
            return await self._exchange(raw)
        except BaseException:
            self.close()
            raise

    async def _exchange(self, raw: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body


class Pool:
    """Idle connections to reuse, new ones up to `limit`."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[Connection] = []
        self.opened = 0
        self.available = asyncio.Condition()

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        async with self.available:
            while not self.idle and self.opened >= self.limit:
                await self.available.wait()
            if self.idle:
                conn = self.idle.pop()
            else:
                conn = Connection(self.host, self.port)
                self.opened += 1
        try:
            return await conn.request(raw)
        finally:
            async with self.available:
                self.idle.append(conn)
                self.available.notify()


# -- requests ------------------------------------------------------------------------------


@dataclass
class Report:
    openid: str
    text: SimulatedRequest
    location: SimulatedRequest
    tag: str = ""
    start: float = 0.0
    copies: tuple[list[SimulatedRequest], list[SimulatedRequest]] = field(
        default_factory=lambda: ([], [])
    )


def make_simulator(spec: dict) -> WeChatSimulator:
    s = spec["sim"]
    return WeChatSimulator(s["token"], s["app_id"], s["aes_key"], s["account"], mode="safe")


def make_reports(sim: WeChatSimulator, spec: dict, count: int, riders: int) -> list[Report]:
    rng = random.Random(spec.get("seed", 1))
    points = spec["points"]
    prefix = spec.get("prefix", "bench-")
    out = []
    for i in range(count):
        openid = f"{prefix}{i % riders}"
        tag = f"[{prefix}{i}]"
        lat, lng = rng.choice(points)
        out.append(
            Report(
                openid=openid,
                tag=tag,
                text=sim.text(openid, f"{tag} {REPORT_TEXT}"),
                location=sim.location(openid, lat, lng, label=f"路口 {i}"),
            )
        )
    return out


# -- closed loop ---------------------------------------------------------------------------


async def closed_loop(spec: dict) -> dict:
    host, port, path = spec["host"], spec["port"], spec.get("path", "/wechat")
    sim = make_simulator(spec)
    pool_size = int(spec["pool"])
    reports = make_reports(sim, spec, pool_size, riders=pool_size)
    raws = [
        (raw_request(host, port, path, r.text), raw_request(host, port, path, r.location))
        for r in reports
    ]
    reuse = bool(spec.get("reuse"))
    duration, warmup = float(spec["duration"]), float(spec["warmup"])
    samples: list[tuple[float, float, int]] = []  # (sent at, latency, status)
    location_replies: list[bytes] = []
    errors: list[str] = []
    state = {"next": 0, "exhausted": False}
    start = time.perf_counter()
    end = start + duration

    def take() -> tuple[bytes, bytes] | None:
        i = state["next"]
        if i >= len(raws):
            if not reuse:
                state["exhausted"] = True
                return None
            i = 0
        state["next"] = i + 1
        return raws[i]

    async def loop() -> None:
        conn = Connection(host, port)
        try:
            while time.perf_counter() < end:
                pair = take()
                if pair is None:
                    return
                for kind, raw in enumerate(pair):
                    t0 = time.perf_counter()
                    try:
                        status, body = await conn.request(raw)
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        errors.append(repr(exc))
                        conn.close()
                        status, body = 0, b""
                    t1 = time.perf_counter()
                    samples.append((t0 - start, t1 - t0, status))
                    if kind == 1 and t0 - start >= warmup:
                        location_replies.append(body)
        finally:
            conn.close()

    await asyncio.gather(*(loop() for _ in range(int(spec["connections"]))))
    finished = time.perf_counter() - start
    # Throughput: answers completed inside [warmup, end]; latency: requests sent in it.
    stop = min(finished, duration)
    window = max(stop - warmup, 1e-9)
    completed = [st for t, lat, st in samples if warmup <= t + lat <= stop]
    measured = [(t, lat, st) for t, lat, st in samples if warmup <= t <= stop]
    latencies = [lat for _, lat, _ in measured]
    filed = None
    if spec.get("check_replies"):
        texts = [sim.reply_text(b) for b in location_replies]
        filed = sum("已受理" in t for t in texts)
    return {
        "requests": len(completed),
        "total_requests": len(samples),
        "rps": len(completed) / window,
        "latencies": latencies,
        "non_200": sum(1 for st in completed if st != 200),
        "statuses": sorted({st for st in completed if st != 200}),
        "errors": errors[:5],
        "error_count": len(errors),
        "exhausted": state["exhausted"],
        "reports_sent": state["next"],
        "location_replies": len(location_replies),
        "filed": filed,
    }


# -- storm ---------------------------------------------------------------------------------


async def storm(spec: dict) -> dict:
    host, port, path = spec["host"], spec["port"], spec.get("path", "/wechat")
    rng = random.Random(spec.get("seed", 7))
    sim = make_simulator(spec)
    count, riders, duration = int(spec["reports"]), int(spec["riders"]), float(spec["duration"])
    max_copies, spread = int(spec["max_copies"]), float(spec["copy_spread"])
    think_lo, think_hi = spec.get("think", (0.2, 2.0))
    reports = make_reports(sim, spec, count, riders=riders)
    for r in reports:
        r.start = rng.uniform(0, duration)
        for i, base in enumerate((r.text, r.location)):
            r.copies[i].append(base)
            r.copies[i].extend(sim.resign(base) for _ in range(rng.randint(1, max_copies) - 1))
    by_rider: dict[str, list[Report]] = {}
    for r in sorted(reports, key=lambda r: r.start):
        by_rider.setdefault(r.openid, []).append(r)
    pool = Pool(host, port, int(spec.get("connections_max", 256)))
    latencies: list[float] = []
    failures: list[str] = []
    replies: dict[tuple[str, int], list[bytes]] = {}
    lag = [0.0]
    start = time.perf_counter()

    sent_at: dict[tuple[str, int], float] = {}

    async def one_copy(raw: bytes, delay: float, key: tuple[str, int]) -> None:
        await asyncio.sleep(delay)
        sent_at.setdefault(key, time.time())
        t0 = time.perf_counter()
        try:
            status, body = await pool.request(raw)
        except (OSError, asyncio.IncompleteReadError) as exc:
            failures.append(repr(exc))
            return
        latencies.append(time.perf_counter() - t0)
        if status != 200:
            failures.append(f"HTTP {status}: {body[:80]!r}")
            return
        replies.setdefault(key, []).append(body)

    async def deliver(copies: list[SimulatedRequest], key: tuple[str, int]) -> None:
        delays = [0.0] + [rng.uniform(0, spread) for _ in copies[1:]]
        raws = [raw_request(host, port, path, c) for c in copies]
        await asyncio.gather(*(one_copy(raw, d, key) for raw, d in zip(raws, delays, strict=True)))

    async def rider(plan: list[Report]) -> None:
        for r in plan:
            wait = start + r.start - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
                # How late the event loop woke us: the generator's own overload.
                lag[0] = max(lag[0], time.perf_counter() - start - r.start)
            await deliver(r.copies[0], (r.tag, 0))
            await asyncio.sleep(rng.uniform(think_lo, think_hi))
            await deliver(r.copies[1], (r.tag, 1))

    await asyncio.gather(*(rider(plan) for plan in by_rider.values()))
    elapsed = time.perf_counter() - start
    inconsistent = 0
    inconsistent_keys: list[str] = []
    tickets: dict[str, int | None] = {}
    answers: dict[str, str] = {}
    """Message key (as the inbox and outbox.reply_to name it) -> its passive answer."""
    by_key = {(r.tag, i): c[0].msg_id for r in reports for i, c in enumerate(r.copies)}
    numbers: dict[tuple[str, int], int] = {}
    for (tag, kind), bodies in replies.items():
        # "" (success) shows the user nothing: two different answers are a duplicate, an
        # answer and "" are not (the message was answered late, or by the other copy).
        texts = {sim.reply_text(b) for b in bodies} - {""}
        inconsistent += len(texts) > 1
        if len(texts) > 1 and len(inconsistent_keys) < 5:
            inconsistent_keys.append(f"msg:{by_key[tag, kind]}")
        answer = answers[f"msg:{by_key[tag, kind]}"] = next(iter(texts), "")
        if m := TICKET_NUMBER.search(answer):
            numbers[tag, kind] = int(m.group(1))
    for r in reports:  # the location's answer names the ticket (the text's, if it came later)
        tickets[r.tag] = numbers.get((r.tag, 1), numbers.get((r.tag, 0)))
    return {
        "reports": count,
        "riders": len(by_rider),
        "messages": 2 * count,
        "deliveries": sum(len(c) for r in reports for c in r.copies),
        "elapsed": elapsed,
        "latencies": latencies,
        "failures": len(failures),
        "failure_samples": failures[:5],
        "inconsistent_replies": inconsistent,
        "inconsistent_keys": inconsistent_keys,
        "acked": sum(1 for n in tickets.values() if n is not None),
        "ticket_numbers": tickets,
        "answers": answers,
        "keys": {f"msg:{by_key[k]}": k[0] for k in by_key},
        "sent_at": {f"msg:{by_key[k]}": t for k, t in sent_at.items()},
        "tags": [r.tag for r in reports],
        "max_start_lag": lag[0],
        "connections_opened": pool.opened,
    }


def run(spec: dict, timeout: float = 600.0) -> dict:
    """Run the generator in a fresh process and return its result."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=root,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    spec = json.load(sys.stdin)
    runner = {"closed": closed_loop, "storm": storm}[spec["mode"]]
    result = asyncio.run(runner(spec))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
