"""Imports every table module so SQLModel's metadata is complete (Alembic, tests, create_all)."""

from __future__ import annotations

import importlib

TABLE_MODULES = (
    "stemmen.rules.models",
    "stemmen.audit.models",
    "stemmen.rounds.models",
    "stemmen.proposals.models",
    "stemmen.ballots.models",
    "stemmen.results.models",
)


def import_all_models() -> None:
    for module_name in TABLE_MODULES:
        try:
            importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is None or not module_name.startswith(error.name):
                raise
