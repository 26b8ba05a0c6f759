"""The webhooks' event names and signature, as integrators read them in the README."""

from pathlib import Path

import pytest

from app.domain import webhooks
from app.domain.tickets import Action

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_signature_is_the_one_openssl_makes_from_the_documented_scheme():
    # printf '%s.%s' 1764640800 '{"event":"webhook.test"}' | openssl dgst -sha256 -hmac whsec_example
    assert webhooks.signature("whsec_example", 1764640800, b'{"event":"webhook.test"}') == (
        "83ccd38256024d2322a72a8dbfc8a1fc639af4d788db26d1fe05ff8d1bdc8ae3"
    )


def test_every_event_is_documented_and_hazard_alerts_are_not_sent():
    missing = [name for name in webhooks.EVENT_NAMES if f"`{name}`" not in README]
    assert missing == []
    assert webhooks.event_for(Action.HAZARD_ALERT) is None
    assert webhooks.event_for(Action.CONFIRM_RETURN) == "ticket.rejected"
    assert webhooks.event_for(Action.PASS_ON) == "ticket.passed_on"


def test_subscriptions_name_known_events_or_all():
    assert webhooks.parse_events(" ticket.created, ticket.claimed,ticket.created") == (
        "ticket.created",
        "ticket.claimed",
    )
    assert webhooks.parse_events("ticket.created,*") == ("*",)
    assert webhooks.subscribed(("*",), "ticket.split")
    assert not webhooks.subscribed(("ticket.created",), "ticket.claimed")
    for bad in ("", "ticket.create", "created"):
        with pytest.raises(ValueError):
            webhooks.parse_events(bad)
