"""console list at a million tickets (PostgreSQL only; SQLite is untouched): a covering
index for a lead's area, and a word index for the list's search

- ix_tickets_scope_list: (area_id, created_at, id) carrying every column the list filters
  or sorts on, so counting and ordering a community's tickets reads the index alone
  (index-only scan) instead of one heap page per ticket.
- ix_tickets_status_created: (status, created_at, id) with area_id, for a district's
  list of one status in date order: page 20 of closed tickets without visiting the
  newest (mostly open) tickets' rows.
- ix_tickets_words: GIN over (area_id, the two-character pieces of description and
  place). Chinese search words are mostly two characters, which pg_trgm's trigrams cannot
  index (LIKE '%积水%' extracts no trigram and scans everything), so the pieces are pairs:
  gridbot_bigrams(text), an immutable function. area_id comes first (btree_gin, a contrib
  extension like pg_trgm) so that a community's search intersects its areas' entries with
  the word's inside the index instead of reading every ticket with a common word.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BIGRAMS = """
CREATE OR REPLACE FUNCTION gridbot_bigrams(words text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE pieces text[] := '{}'; i int;
BEGIN
  FOR i IN 1 .. char_length(words) - 1 LOOP
    pieces := pieces || substr(words, i, 2);
  END LOOP;
  RETURN pieces;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_tickets_scope_list ON tickets (area_id, created_at, id) INCLUDE "
        "(status, category, grid_id, claimed_at, claim_due_at, resolve_due_at, updated_at)"
    )
    op.execute(
        "CREATE INDEX ix_tickets_status_created ON tickets (status, created_at, id) "
        "INCLUDE (area_id)"
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(BIGRAMS)
    op.execute(
        "CREATE INDEX ix_tickets_words ON tickets "
        "USING gin (area_id, gridbot_bigrams(description || ' ' || place))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_tickets_words")
    op.execute("DROP FUNCTION gridbot_bigrams(text)")
    op.execute("DROP INDEX ix_tickets_status_created")
    op.execute("DROP INDEX ix_tickets_scope_list")
