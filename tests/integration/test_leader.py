"""One process runs the sweeps: a PostgreSQL advisory lock elects it; SQLite's one process leads."""

import time

import psycopg
import pytest

from app.leader import Leader
from app.scheduler import Jobs, Sweep
from tests.conftest import PG_ADMIN


def test_two_electors_one_leader_and_a_takeover_when_it_dies(db_url):
    first, second = Leader(db_url, key=4242), Leader(db_url, key=4242)
    try:
        if not first.postgres:
            assert first.is_leader() and second.is_leader()  # SQLite: one process, it leads
            return
        assert first.is_leader()
        assert not second.is_leader()
        assert first.is_leader() and not second.is_leader()  # asking again changes nothing

        # The leader's connection dies (process killed, network gone).
        pid = first._conn.info.backend_pid
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            # Termination is asynchronous: wait until the backend (and its lock) is gone.
            for _ in range(100):
                gone = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
                if gone.fetchone() is None:
                    break
                time.sleep(0.05)
        assert second.is_leader()
        assert not first.is_leader()  # it notices it lost the lock and does not take it back
        second.close()
        assert first.is_leader()  # a clean step-down frees the lock at once
    finally:
        first.close()
        second.close()


class Follower:
    def is_leader(self) -> bool:
        return False

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("leader", "runs"), [(None, 1), (Follower(), 0)])
def test_only_the_leader_runs_the_sweeps(leader, runs):
    ran = []

    class Sender:
        def drain(self):
            pass

    jobs = Jobs(
        Sender(),
        outbox_poll_seconds=60,
        sweeps=[Sweep("escalation", 60, lambda: ran.append(1))],
        leader=leader,
    )
    assert jobs.scheduler.get_job("escalation") is not None
    jobs._sweep(jobs.scheduler.get_job("escalation").args[0])
    assert len(ran) == runs
