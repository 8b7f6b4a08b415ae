"""Alembic, run per service: each service ships its own `migrations/` folder and names it in its
`beat.migrations` entry point (beat_shared.registry)."""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from beat_shared.db import make_engine
from beat_shared.registry import migrations_directory


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory(service)))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service: str, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, url), revision)


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_platform_tables_v1() -> None:
    """Create version 1 of the outbox and processed-events tables (for initial migrations)."""
    from alembic import op

    from beat_shared.db import add_platform_tables

    metadata = MetaData()
    add_platform_tables(metadata)
    metadata.create_all(op.get_bind())


def drop_platform_tables_v1() -> None:
    from alembic import op

    op.drop_table("processed_events")
    op.drop_table("outbox")


def create_idempotency_table_v1() -> None:
    """Create version 1 of the idempotency_keys table (beat_shared.idempotency)."""
    from alembic import op

    from beat_shared.idempotency import add_idempotency_table

    metadata = MetaData()
    add_idempotency_table(metadata)
    metadata.create_all(op.get_bind())


def drop_idempotency_table_v1() -> None:
    from alembic import op

    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
