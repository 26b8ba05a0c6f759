"""Reading one sample out of the Prometheus text of GET /metrics."""

import re


def sample(body: str, name: str, **labels) -> float:
    """The value of `name{labels}` in `body`; fails the test when it is not there."""
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = "^" + re.escape(f"{name}{{{label_text}}}" if labels else name) + r" (\S+)$"
    match = re.search(pattern, body, re.M)
    assert match, f"{name} {labels} not in metrics"
    return float(match.group(1))
