"""Bulk row writers for the scale data: COPY on PostgreSQL, executemany on SQLite.

Both load everything in one transaction over a raw DBAPI connection, bypassing the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime


def make_writer(engine):
    """The writer for the engine's database."""
    return _PostgresWriter(engine) if engine.dialect.name == "postgresql" else _SqliteWriter(engine)


class _PostgresWriter:
    """COPY ... FROM STDIN through psycopg, one transaction for the whole load."""

    def __init__(self, engine) -> None:
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.tables: set[str] = set()

    def next_id(self, table: str) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            return cur.fetchone()[0]

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        self.tables.add(table)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        with self.conn.cursor() as cur:
            for table in self.tables:  # ids were given explicitly: move the sequences on
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            cur.execute("ANALYZE")
        self.conn.commit()

    def close(self) -> None:
        self.raw.close()


class _SqliteWriter:
    """executemany in one transaction; datetimes stored the way UTCDateTime stores them."""

    def __init__(self, engine) -> None:
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.conn.execute("BEGIN")

    def next_id(self, table: str) -> int:
        return self.conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (tuple(_sqlite_value(v) for v in row) for row in rows),
        )

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("ANALYZE")

    def close(self) -> None:
        self.raw.close()


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value
