"""Alembic environment: async engine, the same scripts on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from stemmen.config import get_settings
from stemmen.db import create_engine, metadata
from stemmen.models import import_all_models

import_all_models()
config = context.config


def database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def configure(connection: Connection | None = None, url: str | None = None) -> dict[str, Any]:
    is_sqlite = (url or database_url()).startswith("sqlite")
    return {
        "target_metadata": metadata,
        "render_as_batch": is_sqlite,
        "compare_type": True,
        "compare_server_default": False,
        "include_object": _include_object,
    }


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # SQLite keeps its own bookkeeping tables; never offer to drop them.
    return not (type_ == "table" and name is not None and name.startswith("sqlite_"))


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(url=url, literal_binds=True, **configure(url=url))
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **configure(connection))
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    settings = get_settings().model_copy(update={"database_url": database_url()})
    engine = create_engine(settings)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
