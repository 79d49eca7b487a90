"""Shared test helpers: where the real pabulib files are, when this machine has them."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
PABULIB_DIR = SHARED_DATA / "pabulib"

LARGE_PABULIB_FILES = {
    "Poland_Lodz_2022.pb",
    "Hungary_Budapest_2024.pb",
    "Poland_Wroclaw_2015_from_500.pb",
}


def pabulib_files(*, include_large: bool = True) -> list[Path]:
    """Every real pabulib file beside the project, or [] on a machine without ../shared."""
    if not PABULIB_DIR.is_dir():
        return []
    return sorted(
        path
        for path in PABULIB_DIR.glob("*.pb")
        if include_large or path.name not in LARGE_PABULIB_FILES
    )
