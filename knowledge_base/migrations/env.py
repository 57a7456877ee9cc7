"""Alembic environment for the curation store (knowledge_base/sql_models.py).

Run by the store itself on open (it passes its connection), or by hand:
``alembic -x url=postgresql+psycopg://... upgrade head`` from the repository root.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine

from knowledge_base.sql_models import Base

config = context.config
target_metadata = Base.metadata
if config.config_file_name and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_name(name, type_, parent_names) -> bool:
    # the database is shared (the question log has its own tables): manage only ours
    return type_ != "table" or name in target_metadata.tables


def url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    context.configure(url=url(), target_metadata=target_metadata, include_name=include_name,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_name=include_name, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          include_name=include_name, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
