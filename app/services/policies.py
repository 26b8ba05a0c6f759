"""The escalation policy in force: shipped defaults with the operator's file merged over.

The operator's file is re-read when it changes, so a new deadline applies from the next
message or sweep without a restart.
"""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

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
    key = (str(path or ""), Path(path).stat().st_mtime if path else 0.0)
    with _lock:
        policy = _cache.get(key)
        if policy is None:
            data = _read(DEFAULTS)
            if path:
                data = merge(data, _read(Path(path)))
            policy = policy_from_dict(data)
            _cache.clear()
            _cache[key] = policy
        return policy


def active() -> Policy:
    """The policy named by the settings (GRIDBOT_POLICY_FILE), else the shipped defaults."""
    from app.settings import get_settings

    return load(get_settings().policy_file)
