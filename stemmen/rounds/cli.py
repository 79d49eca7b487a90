"""``stemmen rounds ...``: rounds in the database named by STEMMEN_DATABASE_URL.

Loaded lazily by stemmen.cli (LAZY_COMMANDS), so the file-only commands never import this.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from stemmen.config import Settings


async def _round_rows(settings: Settings) -> list[dict[str, Any]]:
    from stemmen.db import create_engine, session_maker
    from stemmen.rounds.service import list_rounds

    engine = create_engine(settings)
    try:
        async with session_maker(engine)() as session:
            rounds = await list_rounds(session)
    finally:
        await engine.dispose()
    return [
        {
            "id": r.id,
            "title": r.title,
            "instrument": r.instrument,
            "phase": r.phase,
            "areas": r.areas,
        }
        for r in rounds
    ]


@click.group()
def rounds() -> None:
    """Rounds: one run of an instrument under a pinned rule-set version."""


@rounds.command("list")
@click.option(
    "--database-url",
    envvar="STEMMEN_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL; default STEMMEN_DATABASE_URL or sqlite+aiosqlite:///./stemmen.db.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a table for people; json: a list of objects for scripts.",
)
def list_command(database_url: str | None, output: str) -> None:
    """Every round with its id, title, instrument and phase, oldest first."""
    from sqlalchemy.exc import DBAPIError

    settings = Settings(database_url=database_url) if database_url else Settings()
    try:
        rows = asyncio.run(_round_rows(settings))
    except (DBAPIError, OSError) as error:
        raise click.ClickException(
            f"cannot read rounds from the database ({type(error).__name__}); check "
            "STEMMEN_DATABASE_URL and run `stemmen migrate` first"
        ) from error
    if output == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no rounds yet", err=True)
        return
    widths = {
        key: max(len(key), *(len(str(row[key])) for row in rows))
        for key in ("id", "phase", "instrument")
    }
    click.echo(
        f"{'id':<{widths['id']}}  {'phase':<{widths['phase']}}  "
        f"{'instrument':<{widths['instrument']}}  title"
    )
    for row in rows:
        click.echo(
            f"{row['id']:<{widths['id']}}  {row['phase']:<{widths['phase']}}  "
            f"{row['instrument']:<{widths['instrument']}}  {row['title']}"
        )
