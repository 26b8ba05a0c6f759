"""Servers under test as real subprocesses: start, wait until they answer, measure, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log: Path
    ready_path: str = "/healthz"
    timeout: float = 60.0

    def wait_ready(self) -> None:
        end = time.monotonic() + self.timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            try:
                httpx.get(self.url + self.ready_path, timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} did not answer within {self.timeout:.0f} s:\n{self.tail()}"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        """This process and its descendants (uvicorn --workers forks workers)."""
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with suppress(OSError):
                    todo += [int(p) for p in (task / "children").read_text().split()]
        return found

    def memory_mb(self) -> dict[int, tuple[float, float]]:
        """pid -> (VmRSS, VmHWM) in MB for the server and each worker process."""
        return {pid: m for pid in self.pids() if (m := proc_memory_mb(pid)) is not None}

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def proc_memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of `pid` in MB from /proc/<pid>/status."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    if len(values) != 2:
        return None
    return values["VmRSS"], values["VmHWM"]


def gridbot_command(port: int, *extra: str) -> list[str]:
    """`gridbot serve` through the venv's console script: the server is this very process."""
    return [str(VENV_BIN / "gridbot"), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]


def gridbot_at(ref: str, workdir: Path) -> Path:
    """The tree of git `ref` extracted under `workdir`, to serve an older gridbot beside this one."""
    root = Path(__file__).resolve().parents[1]
    target = workdir / f"gridbot-{ref.replace('/', '_')}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", ref], cwd=root, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def gridbot_command_at(tree: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """`gridbot serve` from another source tree (see `gridbot_at`): command and extra env."""
    # First on sys.path: `-c` puts the working directory (this tree) before PYTHONPATH.
    # And the working directory too: `serve --workers N` spawns processes that start from
    # the working directory's code, whatever the parent imported (checked with a marker).
    code = (
        f"import os, sys; os.chdir({str(tree)!r}); sys.path.insert(0, {str(tree)!r}); "
        "from app.cli import main; main()"
    )
    command = [sys.executable, "-c", code, "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return command, {"PYTHONPATH": str(tree)}


def uvicorn_command(app: str, port: int) -> list[str]:
    """A bench app under uvicorn with the settings `gridbot serve` uses (log level info)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "info",
    ]


def uvicorn_command_at(tree: Path, app: str, port: int) -> list[str]:
    """`uvicorn_command` serving `app` from another source tree (see `gridbot_at`)."""
    # `-m` would put the working directory (this tree) first on sys.path.
    code = (
        f"import os, sys; os.chdir({str(tree)!r}); sys.path.insert(0, {str(tree)!r}); "
        "from uvicorn.main import main; main()"
    )
    return [sys.executable, "-c", code, *uvicorn_command(app, port)[3:]]


def gridbot_supports_workers() -> bool:
    out = subprocess.run(
        [str(VENV_BIN / "gridbot"), "serve", "--help"], capture_output=True, text=True
    ).stdout
    return "--workers" in out


@contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    workdir: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/healthz",
    timeout: float = 60.0,
    wait: bool = True,
) -> Iterator[Server]:
    """Start `command`, wait until GET `ready_path` answers, yield, then stop it.

    With `wait=False` the caller calls `server.wait_ready()` (to start several at once).
    """
    log = workdir / f"{name}.log"
    root = Path(__file__).resolve().parents[1]
    full_env = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command), cwd=root, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(name, process, port, log, ready_path, timeout)
    try:
        if wait:
            server.wait_ready()
        yield server
    finally:
        stop(server)


def stop(server: Server, grace: float = 10.0) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(grace)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# -- the official account every benchmark plays ------------------------------------------------

TOKEN = "bench-token"
APP_ID = "wxbench000000000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_bench"
SIM = {"token": TOKEN, "app_id": APP_ID, "aes_key": AES_KEY, "account": ACCOUNT}


def gridbot_env(database_url: str, workdir: Path, **settings: object) -> dict[str, str]:
    """GRIDBOT_* for a server in safe mode with the sandbox channel on `database_url`."""
    env = {
        "GRIDBOT_DATABASE_URL": database_url,
        "GRIDBOT_DATA_DIR": str(workdir / "data"),
        "GRIDBOT_CHANNEL": "sandbox",
        "GRIDBOT_WECHAT_TOKEN": TOKEN,
        "GRIDBOT_WECHAT_APP_ID": APP_ID,
        "GRIDBOT_WECHAT_AES_KEY": AES_KEY,
        "GRIDBOT_WECHAT_ACCOUNT": ACCOUNT,
        # Every generated report is its own problem: merging reports that land near an
        # open ticket (a feature) would turn them into confirmations, not tickets.
        "GRIDBOT_DUPLICATE_DISTANCE_M": "0",
        # After 08:00 in Shanghai a fresh server would first send every supervisor the
        # morning digest (hundreds in the generated city): load that is not the benchmark's.
        "GRIDBOT_DIGEST_TIME": "off",
    }
    env.update({f"GRIDBOT_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def bench_app_env() -> dict[str, str]:
    return {
        "BENCH_WECHAT_TOKEN": TOKEN,
        "BENCH_WECHAT_APP_ID": APP_ID,
        "BENCH_WECHAT_AES_KEY": AES_KEY,
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by `pids` (from /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / tick
