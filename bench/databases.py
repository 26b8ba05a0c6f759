"""Temporary databases for benchmarks: a SQLite file or a uniquely named PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

KINDS = ("sqlite", "postgres")


def pg_admin() -> str:
    from bench import PG_ADMIN

    return PG_ADMIN


@contextmanager
def temporary_database(
    kind: str, workdir: Path, *, migrate: bool = True, keep: bool = False
) -> Iterator[str]:
    """A fresh database URL of `kind`, at the newest schema unless `migrate` is False;
    dropped afterwards unless `keep` (PostgreSQL only: for looking at it by hand)."""
    if kind not in KINDS:
        raise ValueError(f"unknown database kind {kind!r}; one of {', '.join(KINDS)}")
    name = f"gridbot_bench_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        url = f"sqlite:///{path}"
        try:
            if migrate:
                _upgrade(url)
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = pg_admin()
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    try:
        if migrate:
            _upgrade(url)
        yield url
    finally:
        if keep:
            print(f"kept database {url}")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade(url: str) -> None:
    from app.migrate import upgrade

    upgrade(url)


def seed_demo(url: str) -> None:
    """The bundled demo district with its staff (16 grids)."""
    from app.db import make_engine, make_sessionmaker, unit_of_work
    from app.demo.seed import seed

    engine = make_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            seed(session)
    finally:
        engine.dispose()


def seed_demo_at(tree: Path, url: str) -> None:
    """Migrate and seed `url` with the code of another source tree (see servers.gridbot_at)."""
    _run_at(tree, f"from bench.databases import seed_demo; upgrade({url!r}); seed_demo({url!r})")


def migrate_at(tree: Path, url: str) -> None:
    """Migrate `url` with the migrations of another source tree."""
    _run_at(tree, f"upgrade({url!r})")


def _run_at(tree: Path, statements: str) -> None:
    code = (
        f"import os, sys; os.chdir({str(tree)!r}); sys.path.insert(0, {str(tree)!r}); "
        f"from app.migrate import upgrade; {statements}"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
