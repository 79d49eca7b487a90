"""``stemmen verify``: check a published bundle, or one receipt in it, with no server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stemmen.audit.bundle import BundleError, load_bundle
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
def verify(bundle: Path, code: str | None, heads: tuple[str, ...]) -> None:
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
    if code is not None:
        receipt_report = verify_receipt(document, code)
        click.echo(receipt_report.render())
        sys.exit(0 if receipt_report.ok else 1)
    report = verify_bundle(document, heads)
    click.echo(report.render())
    sys.exit(0 if report.ok else 1)
