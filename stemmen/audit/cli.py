"""``stemmen verify``: check a published bundle, or one receipt in it, with no server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from stemmen.audit.bundle import (
    BUDGET,
    BundleError,
    family_of,
    load_bundle,
    preferendum_tally_record,
)
from stemmen.audit.verify import verify_bundle, verify_receipt


@click.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--receipt",
    "code",
    metavar="CODE",
    help="Check only this receipt code: is the ballot published, in the tree and logged?",
)
@click.option(
    "--expect-head",
    "heads",
    metavar="HASH",
    multiple=True,
    help="A log head hash published earlier (for example at the close); the log must "
    "contain it. Repeat for several.",
)
@click.option(
    "--extract",
    "extract_to",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the cast-vote record as files other tools read: one pabulib .pb per "
    "area, or the tally JSON record of a preferendum, and the rule set.",
)
def verify(bundle: Path, code: str | None, heads: tuple[str, ...], extract_to: Path | None) -> None:
    """Verify a published round BUNDLE (a stemmen-bundle/1 JSON file).

    Checks the audit-log chain, the pinned rule set, the phases, the tie-break seed, every
    ballot's receipt, the Merkle root of the receipts, the counts, and recomputes the result
    with the engines. Prints one verdict line per check and every discrepancy with where it
    is; exits 1 when anything is wrong, 2 when the file cannot be read.
    """
    try:
        document = load_bundle(bundle)
    except (BundleError, OSError, UnicodeDecodeError) as error:
        click.echo(f"cannot read {bundle}: {error}", err=True)
        sys.exit(2)
    if extract_to is not None:
        for written in extract(document, extract_to):
            click.echo(f"wrote {written}")
    if code is not None:
        receipt_report = verify_receipt(document, code)
        click.echo(receipt_report.render())
        sys.exit(0 if receipt_report.ok else 1)
    report = verify_bundle(document, heads)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)


def extract(document: dict[str, Any], directory: Path) -> list[Path]:
    """Write the bundle's cast-vote record and rule set as plain files; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    ruleset_path = directory / "ruleset.json"
    ruleset_path.write_text(
        json.dumps(document["ruleset"]["document"], ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    written.append(ruleset_path)
    if family_of(document["round"]) == BUDGET:
        for area in document["cast_vote_record"]["areas"]:
            path = directory / f"{area['area']}.pb"
            path.write_text(area["pabulib"], encoding="utf-8")
            written.append(path)
    else:
        path = directory / "preferendum.json"
        record = preferendum_tally_record(document)
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
