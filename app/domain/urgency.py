"""What a ticket's words make of it: its category and whether it is severe, judged again
whenever the rider's words change after filing, and how urgent that is for a worker.

A ticket whose words name no problem (a photo and a location, or "这里有问题") is
其他问题; the words that follow give it its category. A category once given stays: later
words about another problem start another report (see `app.domain.rider_words`), and
more words about this one do not move it (flooding that "堵住了" the road is still
flooding). Taking the words back (取消) that gave the category makes it 其他问题 again.
Severity follows every word: "很危险" sent a minute after filing makes the ticket
severe, and taking those words back makes it normal again unless other riders confirmed
it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.categories import Category, classify
from app.domain.policy import Policy
from app.domain.ticket_notices import is_urgent


@dataclass(frozen=True)
class Assessment:
    category: str
    severe: bool


def assess(
    category: str, description: str, *, policy: Policy, confirmed_severe: bool = False
) -> Assessment:
    """The category and severity a ticket of `category` has with `description` (its words
    after a change); `confirmed_severe`: other riders' confirmations made it severe."""
    named = classify(description)
    if named is Category.OTHER or category == Category.OTHER.value:
        category = named.value
    return Assessment(category, confirmed_severe or policy.is_severe(description))


def urgency_label(assessment: Assessment) -> str:
    """紧急 by the same rule as the 【紧急】 mark on every notice (ticket_notices.is_urgent)."""
    urgent = is_urgent(assessment.category, assessment.severe, "normal")
    return "紧急" if urgent else "一般"
