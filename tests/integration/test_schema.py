"""The migrations are the schema: what they build must equal what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import models
from app.db import make_engine
from app.migrate import upgrade


def test_migrations_match_the_models(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)

    def on_this_database(obj, name, type_, reflected, compare_to):
        # An index the model declares for one database only (`.ddl_if(dialect=...)`,
        # the console list's PostgreSQL indexes) is not expected on another.
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect in (None, engine.dialect.name)

    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": on_this_database}
            )
            diff = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(db_url):
    upgrade(db_url)
    upgrade(db_url)
