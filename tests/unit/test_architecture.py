"""The pure engine must stay usable by an auditor alone: no web framework, no database."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = (
    "litestar",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "aiosqlite",
    "advanced_alchemy",
    "uvicorn",
)

PURE_MODULES = [
    "stemmen.budget",
    "stemmen.tally",
    "stemmen.ballots",
    "stemmen.audit",
    "stemmen.rules.document",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_no_web_or_database_code(module: str) -> None:
    probe = (
        "import importlib, pkgutil, sys\n"
        f"package = importlib.import_module({module!r})\n"
        "for info in pkgutil.walk_packages(getattr(package, '__path__', []), package.__name__ + '.'):\n"
        "    if info.name.rsplit('.', 1)[-1] in {'models', 'schemas', 'service', 'controller', 'log', 'sealer', 'routes', 'middleware'}:\n"
        "        continue  # the web feature modules beside the pure ones\n"
        "    importlib.import_module(info.name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def test_the_command_line_starts_without_the_web_stack() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from stemmen.cli import main\n"
        "CliRunner().invoke(main, ['--help'])\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
