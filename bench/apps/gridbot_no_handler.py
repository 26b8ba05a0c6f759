"""(c) gridbot's own webhook with a handler that does nothing: what the full path costs
before any database work.

Everything `gridbot serve` does for a message up to the handler and after it runs as it
does there — the app built by `create_app` from the same GRIDBOT_* settings, msg_signature,
timestamp and replay checks, decrypt, parse, the in-flight table, the hop to a handler
thread, the encrypted passive reply — but the handler answers a fixed text of the length
of gridbot's acknowledgements at once: no inbox, no ticket, no transaction. The gap between
this row and (b) is gridbot's web layer; between this row and gridbot's, its database work.
No background jobs run.

The replay store is database work and is not measured here: a request's delivery is
recorded as the first write of its message's transaction (app/inbox/deliveries.py), which
this handler does not open, so it records nothing (each request is still checked against
the process's in-memory ReplayGuard). Its cost is in the gridbot rows, with the message's
other writes. (Before issue 20's change the delivery was written in a batched transaction
of its own before the handler, and this row paid for that write.)
"""

from __future__ import annotations

from app.web.main import create_app
from bench.apps import REPLY

app = create_app(run_jobs=False)
app.state.timed_handle = lambda msg, check=None: REPLY
