"""The ticket list's search by words: LIKE on description and place, narrowed first on
PostgreSQL by the GIN index of two-character pieces (migration 0022, ix_tickets_words).

A ticket whose description or place contains the words has every two-character piece of
the words among the pieces of `description || ' ' || place`, so the index finds a small
superset that LIKE then checks. SQLite has no such index and runs the LIKE alone.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, Boolean, Text, bindparam, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from models import Ticket


class _has_pieces(FunctionElement):
    """(description, place, pieces): the words index holds every piece for this ticket."""

    type = Boolean()
    inherit_cache = True
    name = "has_pieces"


@compiles(_has_pieces, "postgresql")
def _pieces_on_postgresql(element, compiler, **kw):
    description, place, pieces = (compiler.process(c, **kw) for c in element.clauses)
    # The index's expression, character for character, or the planner will not use it.
    return f"gridbot_bigrams({description} || ' ' || {place}) @> {pieces}"


@compiles(_has_pieces)
def _pieces_elsewhere(element, compiler, **kw):
    return "1"  # SQLAlchemy compares it with 1 (no booleans in SQLite): always true


def pieces(words: str) -> list[str]:
    return sorted({words[i : i + 2] for i in range(len(words) - 1)})


def matches(words: str):
    """Tickets whose description or place contains `words`."""
    like = f"%{words}%"
    contains = or_(Ticket.description.like(like), Ticket.place.like(like))
    if len(words) < 2:
        return contains
    held = bindparam("word_pieces", pieces(words), type_=ARRAY(Text))
    return _has_pieces(Ticket.description, Ticket.place, held) & contains
