"""``stemmen tally FILE --method NAME``: tally a cast-vote record with no server.

FILE is a PrefLib ``.soc/.soi/.toc/.toi`` file or a JSON cast-vote record (one question, or a
preferendum with ``questions``, each under its own method). Only numpy and the tally engine
are loaded, so an auditor's run starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from stemmen.tally.errors import TallyError

METHOD_NAMES = (
    "plurality",
    "approval",
    "score-sum",
    "score-mean",
    "borda",
    "mbc",
    "majority-judgment",
    "star",
    "irv",
    "copeland",
    "schulze",
    "ranked-pairs",
)


@click.command("tally")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--method", "-m", type=click.Choice(METHOD_NAMES), help="Tally method.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--tie-break",
    "tie_break",
    multiple=True,
    help="Rule-set tie-break step, repeatable, in order: an option id or lottery:SEED.",
)
@click.option(
    "--schulze-variant", type=click.Choice(["margins", "winning-votes"]), default="margins"
)
@click.option(
    "--ranked-pairs-strength", type=click.Choice(["margins", "winning-votes"]), default="margins"
)
@click.option(
    "--unranked-below-ranked/--unranked-incomparable",
    default=True,
    help="Whether a ranked option beats an unranked one (default: it does).",
)
@click.option(
    "--blank",
    type=click.Choice(["abstain", "lowest"]),
    default="abstain",
    help="A blank grade is left out (abstain) or counts as the lowest grade.",
)
@click.option("--names", is_flag=True, help="PrefLib: use alternative names as option ids.")
def tally(
    file: Path,
    method: str | None,
    output_format: str,
    tie_break: tuple[str, ...],
    schulze_variant: str,
    ranked_pairs_strength: str,
    unranked_below_ranked: bool,
    blank: str,
    names: bool,
) -> None:
    """Tally FILE and print the ordering, winners and scores."""
    from stemmen.tally.preferendum import TallyOptions, tally_question

    options = TallyOptions(
        method=method or "",
        tie_break=tie_break,
        unranked_below_ranked=unranked_below_ranked,
        schulze_variant=schulze_variant,
        ranked_pairs_strength=ranked_pairs_strength,
        blank=blank,
    )
    try:
        suffix = file.suffix.lower().lstrip(".")
        if suffix in {"soc", "soi", "toc", "toi"}:
            if not method:
                raise click.UsageError("--method is required")
            from stemmen.tally.preflib import read_preflib

            profile = read_preflib(file, use_names=names).profile
            result = options.run(profile)
            _emit(result.to_json(), output_format)
            return
        from stemmen.tally import jsonio

        document = jsonio.load_json(file)
        if jsonio.is_preferendum(document):
            from stemmen.tally.preferendum import tally_preferendum

            preferendum = jsonio.parse_preferendum(document)
            if method:
                preferendum = _override_method(preferendum, options)
            _emit(tally_preferendum(preferendum).to_json(), output_format)
            return
        if not method:
            raise click.UsageError("--method is required")
        ballots = jsonio.parse_question_ballots(document)
        _emit(tally_question(ballots, options).to_json(), output_format)
    except TallyError as error:
        raise click.ClickException(str(error)) from error


def _override_method(preferendum: Any, options: Any) -> Any:
    from dataclasses import replace

    questions = tuple(replace(q, tally_options=options) for q in preferendum.questions)
    return replace(preferendum, questions=questions)


def _emit(document: dict[str, Any], output_format: str) -> None:
    if output_format == "json":
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    if "questions" in document:
        click.echo(f"turnout: {document['turnout']}  quorum met: {document['quorum_met']}")
        for question in document["questions"]:
            click.echo(
                f"\n== question {question['id']} ({question['method']}),"
                f" participation {question['participation']}"
            )
            if question["excluded_options"]:
                click.echo(f"excluded (below quorum): {', '.join(question['excluded_options'])}")
            if question["result"] is not None:
                _emit_one(question["result"])
        return
    _emit_one(document)


def _emit_one(result: dict[str, Any]) -> None:
    click.echo(f"method: {result['method']}  ballots: {result['ballots']}")
    winners = result["winners"]
    label = "winner" if len(winners) == 1 else "TIED winners"
    click.echo(f"{label}: {', '.join(winners)}")
    scores = result["scores"]
    for place, tier in enumerate(result["ranking"], start=1):
        tied = " (tied)" if len(tier) > 1 else ""
        for option in tier:
            click.echo(f"  {place:>3}. {option}: {scores.get(option)}{tied}")
    if "condorcet_winner" in result:
        click.echo(
            f"Condorcet winner: {result['condorcet_winner']}; loser: {result['condorcet_loser']}"
        )
    for step in result.get("tie_break_steps", []):
        click.echo(f"tie-break [{step['context']}] {step['tied']} by {step['rule']}")
