"""The ``stemmen`` command.

File-only subcommands (budget, tally, verify) live beside the code they drive and are imported
only when invoked, so that an auditor's ``stemmen budget ...`` never loads the web framework
or a database driver. Service commands import what they need inside their bodies for the
same reason.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from stemmen import __version__

# name -> ("module:attribute" of a click command, one-line help); loaded on first use.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "budget": ("stemmen.budget.cli:budget", "Allocate a participatory budget from a pabulib file."),
    "tally": ("stemmen.tally.cli:tally", "Tally a preferendum or poll from a cast-vote record."),
    "verify": ("stemmen.audit.cli:verify", "Verify a published round bundle or one receipt in it."),
    "rounds": (
        "stemmen.rounds.cli:rounds",
        "List the rounds in the database (id, title, instrument, phase).",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            target, _ = LAZY_COMMANDS[cmd_name]
            module_name, attribute = target.split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe lazy commands without importing them, so --help stays fast.
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_COMMANDS[name][1]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=70)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stemmen")
def main() -> None:
    """stemmen: participatory budgets and preferenda, exact and verifiable.

    Settings come from STEMMEN_* environment variables (or a .env file); the database
    defaults to ./stemmen.db (SQLite). The budget, tally and verify commands work on files
    alone, with no server.
    """


def _settings(database_url: str | None = None) -> Any:
    from stemmen.config import get_settings

    if database_url:
        os.environ["STEMMEN_DATABASE_URL"] = database_url
        get_settings.cache_clear()
    return get_settings()


database_option = click.option(
    "--database-url",
    envvar="STEMMEN_DATABASE_URL",
    default=None,
    help="SQLAlchemy URL; default STEMMEN_DATABASE_URL or sqlite+aiosqlite:///./stemmen.db.",
)


@main.command()
@database_option
def migrate(database_url: str | None) -> None:
    """Upgrade the database schema to the newest migration (safe to repeat)."""
    from stemmen.migrate import upgrade

    settings = _settings(database_url)
    click.echo(f"migrating {_redacted(settings.database_url)} ...", err=True)
    upgrade(settings.database_url)
    click.echo("database schema is up to date", err=True)


@main.command()
@database_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=int,
    help="Worker processes; they share the database (use PostgreSQL for more than one).",
)
@click.option("--no-migrate", is_flag=True, help="Do not run migrations before starting.")
def serve(database_url: str | None, host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Migrate, then run the API (OpenAPI docs at /schema, health at /health)."""
    import uvicorn

    from stemmen.config import InsecureSettings
    from stemmen.migrate import upgrade

    settings = _settings(database_url)
    try:
        settings.require_secure()
    except InsecureSettings as error:
        raise click.ClickException(str(error)) from error
    if settings.is_sqlite and workers > 1:
        raise click.ClickException(
            "SQLite serves one worker; run with --workers 1, or point STEMMEN_DATABASE_URL at "
            "PostgreSQL (postgresql+asyncpg://...) to run several."
        )
    if not no_migrate:
        upgrade(settings.database_url)
    click.echo(f"stemmen {__version__} on http://{host}:{port} (docs: /schema)", err=True)
    uvicorn.run(
        "stemmen.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
        # The app logs every request itself (with its request id); uvicorn's access log would
        # only be a second, unread line's worth of work per request.
        access_log=False,
        timeout_graceful_shutdown=10,
        # A busy worker on a small machine can miss uvicorn's 5 s health ping during a peak and
        # be killed mid-request; give it room (measured under the load benchmark).
        timeout_worker_healthcheck=30,
    )


@main.command()
@click.option(
    "--role", type=click.Choice(["resident", "official", "auditor", "admin"]), required=True
)
@click.option(
    "--subject", required=True, help="Who the token is for (the identity provider's subject id)."
)
@click.option(
    "--area", "areas", multiple=True, help="An area code (CBS WK/BU code); repeat for more."
)
@click.option(
    "--birth-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="YYYY-MM-DD; residents' age is checked against the rule set.",
)
@click.option("--name", default=None, help="Display name (officials: shown in the audit log).")
@click.option("--hours", default=8, show_default=True, type=int, help="Lifetime of the token.")
@click.option(
    "--private-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM private key, for RS256/EdDSA set-ups.",
)
def token(
    role: str,
    subject: str,
    areas: tuple[str, ...],
    birth_date: Any,
    name: str | None,
    hours: int,
    private_key: Path | None,
) -> None:
    """Mint a development JWT signed with this server's key (not for production sign-in)."""
    from stemmen.auth import mint_token

    settings = _settings()
    click.echo(
        mint_token(
            settings,
            subject=subject,
            role=role,
            areas=areas,
            birth_date=birth_date.date() if birth_date else None,
            name=name,
            lifetime_seconds=hours * 3600,
            private_key=private_key.read_text() if private_key else None,
        )
    )


@main.group()
def rules() -> None:
    """Rule sets: the council's frame for an instrument, as data."""


@rules.command("validate")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def rules_validate(files: tuple[Path, ...]) -> None:
    """Check rule-set files against the published schema; print each problem with its path."""
    from stemmen.rules.document import ruleset_hash, validate_ruleset

    failed = False
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            click.echo(f"{path}: not valid JSON: {error}", err=True)
            failed = True
            continue
        problems = validate_ruleset(document)
        if problems:
            failed = True
            for problem in problems:
                click.echo(f"{path}: {problem.path or '/'}: {problem.message_en}", err=True)
        else:
            click.echo(f"{path}: valid, version id {ruleset_hash(document)}")
    if failed:
        sys.exit(1)


@rules.command("hash")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def rules_hash(file: Path) -> None:
    """Print the version id (SHA-256 of the canonical JSON) a rule-set file will get."""
    from stemmen.rules.document import ruleset_hash

    click.echo(ruleset_hash(json.loads(file.read_text(encoding="utf-8"))))


@main.command("export-bundle")
@click.argument("round_id")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the bundle (canonical JSON); `-` for standard output.",
)
@database_option
def export_bundle(round_id: str, out: Path, database_url: str | None) -> None:
    """Write the published bundle of ROUND_ID (docs/bundle.md) for `stemmen verify`.

    Reads the database named by STEMMEN_DATABASE_URL; `stemmen rounds list` gives the ids.
    Refuses a round whose result is not published yet: its seed and nonces are still secret.
    """
    import asyncio
    import hashlib

    from sqlalchemy.exc import DBAPIError

    from stemmen.audit.bundle import dump_bundle
    from stemmen.audit.service import exported_bundle
    from stemmen.errors import DomainError

    try:
        bundle = asyncio.run(exported_bundle(database_url, round_id))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    except (DBAPIError, OSError) as error:
        raise click.ClickException(
            f"cannot read round {round_id} from the database ({type(error).__name__}); check "
            "STEMMEN_DATABASE_URL and run `stemmen migrate` first"
        ) from error
    data = dump_bundle(bundle)
    if str(out) == "-":
        click.echo(data.decode("utf-8"))
        return
    out.write_bytes(data)
    click.echo(
        f"wrote {out}: round {round_id}, {len(bundle['receipts'])} ballots, "
        f"log head {bundle['log']['head']}, sha256 {hashlib.sha256(data).hexdigest()}",
        err=True,
    )


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url


@main.command()
@database_option
@click.option(
    "--voters",
    default=600,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Synthetic residents voting in each round (the preferendum's quorum is 500).",
)
@click.option(
    "--seed", default=2026, show_default=True, type=int, help="Seed of the synthetic voters."
)
def demo(database_url: str | None, voters: int, seed: int) -> None:
    """Seed example rule sets, a published budget round and a published preferendum."""
    import asyncio

    from stemmen.demo import seed_demo
    from stemmen.migrate import upgrade

    settings = _settings(database_url)
    upgrade(settings.database_url)
    asyncio.run(
        seed_demo(settings, voters=voters, seed=seed, echo=lambda line: click.echo(line, err=True))
    )
