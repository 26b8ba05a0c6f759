"""The migrations are the schema: what they build must equal what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import models
from app.db import make_engine
from app.migrate import upgrade


def test_migrations_match_the_models(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(db_url):
    upgrade(db_url)
    upgrade(db_url)
