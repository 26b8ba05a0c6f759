"""The escalation policy in force: shipped defaults with the operator's file merged over.

The operator's file is re-read when it changes, so a new deadline applies from the next
message or sweep without a restart.
"""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.domain.policy import Policy, PolicyError, merge, policy_from_dict

DEFAULTS = Path(__file__).resolve().parents[1] / "policy_defaults.toml"

_lock = threading.Lock()
_cache: dict[tuple[str, float], Policy] = {}


def _read(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from None


def load(path: Path | str | None = None) -> Policy:
    """The defaults, with the TOML file at `path` (if any) merged over them."""
    try:
        key = (str(path or ""), Path(path).stat().st_mtime if path else 0.0)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    with _lock:
        policy = _cache.get(key)
        if policy is None:
            data = _read(DEFAULTS)
            if path:
                data = merge(data, _read(Path(path)))
            policy = policy_from_dict(data)
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = policy
        return policy


class PolicySource:
    """The policy an app, a command or a job was built with: the shipped defaults with
    the operator's file (if any) merged over, re-read when the file changes."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = path

    def __call__(self) -> Policy:
        return load(self.path)


SHIPPED = PolicySource(None)
_KEY = "gridbot.policy"


def with_policy(sessions: sessionmaker[Session], source: PolicySource) -> sessionmaker[Session]:
    """Sessions like `sessions` that carry `source`: the use cases run in them apply it."""
    kw = dict(sessions.kw)
    kw["info"] = {**(kw.get("info") or {}), _KEY: source}
    return sessionmaker(class_=sessions.class_, **kw)


def of(session: Session) -> Policy:
    """The policy the caller's unit of work was opened with (see `with_policy`); the
    shipped defaults for sessions made without one. Never the environment's."""
    return session.info.get(_KEY, SHIPPED)()
