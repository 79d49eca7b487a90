"""The ``stemmen`` command.

Subcommands live beside the code they drive and are imported only when invoked, so that
``stemmen budget ...`` or ``stemmen tally ...`` on an auditor's laptop never loads the web
framework or the database driver.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from stemmen import __version__

# name -> "module:attribute" of a click command; loaded on first use.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "budget": ("stemmen.budget.cli:budget", "Allocate a participatory budget from a pabulib file."),
    "tally": ("stemmen.tally.cli:tally", "Tally a preferendum or poll from a cast-vote record."),
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

    The budget, tally and verify commands work on files alone, with no server.
    """


def run(*args: Any) -> None:  # pragma: no cover - convenience for python -m
    main(*args)
