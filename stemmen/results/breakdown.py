"""Published breakdowns of a round's counted ballots, with small groups suppressed.

A breakdown splits the counted ballots into groups along one dimension (the ``area`` a ballot
was cast in, or its ``channel``: online or on paper) and shows per group how many voters it
has and how many of them supported each project or option. The rule set's
``publication.min_group_size`` is the smallest group a breakdown may show:

- **Primary suppression.** A group with fewer voters than ``min_group_size`` (none included)
  is shown as suppressed, never as a number: neither its voters nor any of its support
  counts.
- **No complementary disclosure.** Every table's total is public (the round's ballots, or an
  area's, which the result shows), so a single suppressed group would be the total minus the
  others. Whenever a table suppresses anything, it suppresses further groups, the smallest
  first, until the suppressed groups *together* have at least ``min_group_size`` voters (or
  every group is suppressed). What anyone can recompute as "total minus shown" is then a pool
  of at least that many voters, which the rule allows to be shown.
- **Linked tables.** A budget round's areas are each counted on their own, so an area's
  voters and support are its result, published whatever their size; the breakdown splits
  each area by channel. The round-wide channel table is the sum of those, so a channel's
  round total minus the shown areas would give the suppressed areas' count. An area's split
  is therefore shown or suppressed whole, and further areas are suppressed (smallest first)
  until at least two are and, per channel, the suppressed areas together have at least
  ``min_group_size`` voters; no single suppressed cell is then fixed by the public sums.
  If no area is left to add, the round-wide channel table is suppressed too.
- **One mark for all.** A group suppressed to protect a small one looks exactly like a
  small one. Saying which is which would say that the protecting group has at least
  ``min_group_size`` voters, and that bound with a public total can pin a small group down
  (an area of 20 voters whose two channels are both "not small" has 10 and 10; the round's
  paper total minus those 10 gives the small group).

The rule protects sums, the inference anyone can make with subtraction. It does not make a
group of at least ``min_group_size`` voters diverse: a shown group whose voters all chose the
same project shows that each of them did. Nothing here sees who voted: a ballot arrives as
its group keys and what it supports.

Age bands are not a dimension: a ballot stores no age or birth date (the age is checked
against the sign-in's claim when the ballot is cast, and not kept).

Pure: no web or database code, so an auditor can recompute a breakdown from a published
bundle (:func:`bundle_breakdown`): a budget round's areas and votes are in its ``.pb`` files,
every ballot's channel in its ``ballot.accepted`` log entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

AREA = "area"
CHANNEL = "channel"
CHANNELS = ("online", "paper")


@dataclass(frozen=True)
class GroupedBallot:
    """What a breakdown needs of one counted ballot: its groups and what it supports.

    ``supports`` holds project ids (budget rounds) or ``(question, option)`` pairs
    (preferenda); ``answered`` the questions the ballot answered (preferenda).
    """

    area: str | None
    channel: str
    supports: frozenset[Any] = frozenset()
    answered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Group:
    """One group of a table: its voters and support, or suppressed (then both are None).

    ``small`` marks a group below the minimum. It is not published (see the module
    docstring, *One mark for all*).
    """

    key: str
    voters: int | None
    support: Mapping[str, int] | None = None
    questions: Mapping[str, Mapping[str, Any]] | None = None
    small: bool = False

    @property
    def suppressed(self) -> bool:
        return self.voters is None


@dataclass(frozen=True)
class Table:
    """One dimension's groups; ``area`` is the area it splits (None: the whole round)."""

    dimension: str
    area: str | None
    voters: int
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class Breakdown:
    min_group_size: int
    ballots: int
    tables: tuple[Table, ...]
    dimensions: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "min_group_size": self.min_group_size,
            "ballots": self.ballots,
            "dimensions": list(self.dimensions),
            "tables": [
                {
                    "dimension": table.dimension,
                    "area": table.area,
                    "voters": table.voters,
                    "groups": [_group_json(group) for group in table.groups],
                }
                for table in self.tables
            ],
        }


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "group": group.key,
        "suppressed": group.suppressed,
        "voters": group.voters,
        "support": None if group.support is None else dict(group.support),
        "questions": None
        if group.questions is None
        else {key: dict(value) for key, value in group.questions.items()},
    }


# --------------------------------------------------------------------------- the rule


def suppressed_groups(sizes: Mapping[str, int], min_group_size: int) -> set[str]:
    """The groups of one table to suppress, given every group's voters and a public total.

    The groups below the minimum, and then the smallest others (in the mapping's order among
    equals) until those suppressed together have at least ``min_group_size`` voters.
    """
    hidden = {key for key, size in sizes.items() if size < min_group_size}
    return _complete(hidden, sizes, min_group_size)


def _complete(hidden: set[str], sizes: Mapping[str, int], min_group_size: int) -> set[str]:
    order = {key: index for index, key in enumerate(sizes)}
    while hidden and sum(sizes[key] for key in hidden) < min_group_size:
        shown = [key for key in sizes if key not in hidden]
        if not shown:
            break
        hidden.add(min(shown, key=lambda key: (sizes[key], order[key])))
    return hidden


def linked_suppression(
    cells: Mapping[str, Mapping[str, int]], min_group_size: int
) -> tuple[set[str], set[str]]:
    """Suppression for rows (areas, totals public) split by columns (channels) whose round
    totals are published too: the hidden rows, and the hidden column totals.

    A row is shown or hidden whole (a row with one hidden cell would give it away as the
    row's total minus the rest). Rows with a group below the minimum are hidden; then, while
    fewer than two rows are hidden, the smallest other row is hidden too, and while the
    hidden rows' cells of a shown column total sum to fewer than ``min_group_size``, the row
    with the smallest cell in that column. Every hidden cell then lies on a cycle of hidden
    cells (two rows, two columns), so no public sum pins it down; if no row is left to hide,
    the column totals are hidden.
    """
    order = list(cells)
    columns: list[str] = []
    for row in cells.values():
        columns.extend(column for column in row if column not in columns)
    totals = {column: sum(row.get(column, 0) for row in cells.values()) for column in columns}
    hidden_totals = suppressed_groups(totals, min_group_size)
    hidden = {
        area for area, row in cells.items() if any(size < min_group_size for size in row.values())
    }

    def exposed(column: str) -> bool:
        pool = sum(cells[area].get(column, 0) for area in hidden)
        return column not in hidden_totals and (len(hidden) < 2 or pool < min_group_size)

    while hidden and any(exposed(column) for column in columns):
        column = next(column for column in columns if exposed(column))
        shown = [area for area in order if area not in hidden]
        if not shown:
            hidden_totals = set(columns)
            break
        if len(hidden) < 2:  # a second area, the one with fewest voters
            hidden.add(min(shown, key=lambda a: (sum(cells[a].values()), order.index(a))))
        else:  # the area adding fewest voters to the short channel
            hidden.add(min(shown, key=lambda a: (cells[a].get(column, 0), order.index(a))))
    return hidden, hidden_totals


# --------------------------------------------------------------------------- tables


def _counts(ballots: Iterable[GroupedBallot]) -> tuple[int, dict[Any, int], dict[str, int]]:
    voters = 0
    support: Counter[Any] = Counter()
    answered: Counter[str] = Counter()
    for ballot in ballots:
        voters += 1
        support.update(ballot.supports)
        answered.update(ballot.answered)
    return voters, support, answered


def _group(
    key: str,
    members: Sequence[GroupedBallot],
    hidden: bool,
    minimum: int,
    projects: Sequence[str] | None,
    questions: Mapping[str, Sequence[str]] | None,
    with_support: bool = True,
) -> Group:
    if hidden:
        return Group(key, None, small=len(members) < minimum)
    voters, support, answered = _counts(members)
    if not with_support:
        return Group(key, voters)
    if projects is not None:
        return Group(key, voters, support={p: support.get(p, 0) for p in projects})
    assert questions is not None
    return Group(
        key,
        voters,
        questions={
            question: {
                "answered": answered.get(question, 0),
                "support": {option: support.get((question, option), 0) for option in options},
            }
            for question, options in questions.items()
        },
    )


def _split(
    ballots: Iterable[GroupedBallot], keys: Sequence[str], dimension: str
) -> dict[str, list[GroupedBallot]]:
    groups: dict[str, list[GroupedBallot]] = {key: [] for key in keys}
    for ballot in ballots:
        key = ballot.area if dimension == AREA else ballot.channel
        groups.setdefault(str(key), []).append(ballot)
    return groups


def budget_breakdown(
    areas: Mapping[str, Sequence[str]],
    ballots: Sequence[GroupedBallot],
    min_group_size: int,
    channels: Sequence[str] = CHANNELS,
) -> Breakdown:
    """A budget round: each area (code to its project ids, in order) split by channel, and
    the round's voters by channel; linked suppression across both (module docstring).

    ``channels`` are the ways of voting the rule set allows (``ballot.channels``); with one,
    there is nothing to split and the breakdown has no tables.
    """
    channels = _channels(ballots, channels)
    if len(channels) < 2:
        return Breakdown(min_group_size, len(ballots), (), ())
    by_area = _split(ballots, list(areas), AREA)
    split = {area: _split(members, channels, CHANNEL) for area, members in by_area.items()}
    sizes = {area: {c: len(m) for c, m in groups.items()} for area, groups in split.items()}
    hidden_areas, hidden_totals = linked_suppression(sizes, min_group_size)
    tables = [
        Table(
            CHANNEL,
            area,
            len(by_area[area]),
            tuple(
                _group(
                    c,
                    members,
                    area in hidden_areas,
                    min_group_size,
                    list(areas.get(area, ())),
                    None,
                )
                for c, members in split[area].items()
            ),
        )
        for area in split
    ]
    everyone = _split(ballots, channels, CHANNEL)
    round_wide = Table(
        CHANNEL,
        None,
        len(ballots),
        tuple(
            _group(c, members, c in hidden_totals, min_group_size, None, None, with_support=False)
            for c, members in everyone.items()
        ),
    )
    return Breakdown(min_group_size, len(ballots), (round_wide, *tables), (CHANNEL,))


def preferendum_breakdown(
    areas: Sequence[str],
    questions: Mapping[str, Sequence[str]],
    ballots: Sequence[GroupedBallot],
    min_group_size: int,
    channels: Sequence[str] = CHANNELS,
) -> Breakdown:
    """A preferendum: the voters by area (when the ballots carry one) and by channel (when
    the rule set allows more than one), with per question the voters who answered it and
    each option's supporters."""
    tables = []
    dimensions: list[str] = []
    with_area = any(ballot.area is not None for ballot in ballots)
    channels = _channels(ballots, channels)
    for dimension, keys in ((AREA, list(areas)), (CHANNEL, channels)):
        if (dimension == AREA and not with_area) or len(keys) < 2:
            continue
        dimensions.append(dimension)
        groups = _split(ballots, keys, dimension)
        hidden = suppressed_groups({k: len(m) for k, m in groups.items()}, min_group_size)
        tables.append(
            Table(
                dimension,
                None,
                len(ballots),
                tuple(
                    _group(k, m, k in hidden, min_group_size, None, questions)
                    for k, m in groups.items()
                ),
            )
        )
    return Breakdown(min_group_size, len(ballots), tuple(tables), tuple(dimensions))


def _channels(ballots: Iterable[GroupedBallot], allowed: Sequence[str]) -> list[str]:
    known = [channel for channel in CHANNELS if channel in allowed]
    known += [channel for channel in allowed if channel not in known]
    return known + sorted({ballot.channel for ballot in ballots} - set(known))


# --------------------------------------------------------------------------- ballots


def budget_ballot(area: str | None, channel: str, content: Mapping[str, Any]) -> GroupedBallot:
    """A budget ballot supports the projects in its vote (with any points)."""
    return GroupedBallot(area, channel, frozenset(str(p) for p in content.get("vote", ())))


def preferendum_ballot(
    area: str | None,
    channel: str,
    answers: Mapping[str, Any],
    scales: Mapping[str, Mapping[str, Any] | None],
) -> GroupedBallot:
    """A preferendum ballot's support per question, by the answer's form: a ranking supports
    the options of its first tier, approvals what they approve, grades what they grade above
    the middle of the scale (``scales``: per question ``{"labels"}`` or ``{"min", "max"}``)."""
    supports: set[tuple[str, str]] = set()
    for question, answer in answers.items():
        if not isinstance(answer, Mapping):
            continue
        if "ranking" in answer:
            tiers = answer["ranking"]
            first = tiers[0] if tiers else []
            supports.update((question, str(option)) for option in first)
        elif "approvals" in answer:
            supports.update((question, str(option)) for option in answer["approvals"])
        elif "grades" in answer:
            scale = scales.get(question)
            labels = tuple((scale or {}).get("labels") or ())
            if labels:  # the common case, a hundred thousand times: a set lookup
                upper = _upper_labels(labels)
                supports.update(
                    (question, str(option))
                    for option, grade in answer["grades"].items()
                    if (grade in upper if isinstance(grade, str) else above_middle(grade, scale))
                )
            else:
                supports.update(
                    (question, str(option))
                    for option, grade in answer["grades"].items()
                    if above_middle(grade, scale)
                )
    return GroupedBallot(area, channel, frozenset(supports), frozenset(map(str, answers)))


@lru_cache(maxsize=64)
def _upper_labels(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(label for label in labels if above_middle(label, {"labels": labels}))


def above_middle(grade: Any, scale: Mapping[str, Any] | None) -> bool:
    """Whether a grade lies above the middle of its scale (a label or a number)."""
    if grade is None or isinstance(grade, bool):
        return False
    labels = list((scale or {}).get("labels") or [])
    if labels:
        if isinstance(grade, str):
            if grade not in labels:
                return False
            position = labels.index(grade)
        else:
            position = int(grade)
        return 2 * position > len(labels) - 1
    if isinstance(grade, str):
        return False
    low, high = (scale or {}).get("min", 0), (scale or {}).get("max", 0)
    if scale is None or high <= low:
        return bool(grade > 0)
    return bool(2 * grade > low + high)


# --------------------------------------------------------------------------- from a bundle


def bundle_breakdown(bundle: Mapping[str, Any]) -> Breakdown:
    """The breakdown of a published bundle (``docs/bundle.md``), as the service publishes it.

    A preferendum's bundle does not say in which area a ballot was cast, so its breakdown
    from the bundle is by channel only.
    """
    from stemmen.audit.bundle import BUDGET, family_of
    from stemmen.budget.pabulib import parse_pabulib

    document = bundle["ruleset"]["document"]
    minimum = int(document["publication"]["min_group_size"])
    channel = {
        str(entry["payload"]["receipt"]): str(entry["payload"].get("channel", "online"))
        for entry in bundle["log"]["entries"]
        if entry["kind"] == "ballot.accepted"
    }
    channels = tuple(document.get("ballot", {}).get("channels") or CHANNELS)
    definition = bundle["round"]
    record = bundle["cast_vote_record"]
    if family_of(definition) == BUDGET:
        areas = {
            str(area["code"]): [str(project["id"]) for project in area["projects"]]
            for area in definition["areas"]
        }
        ballots: list[GroupedBallot] = []
        for item in record["areas"]:
            instance, profile = parse_pabulib(item["pabulib"])
            ballots.extend(
                GroupedBallot(
                    str(item["area"]),
                    channel.get(voter.id, "online"),
                    frozenset(instance.projects[index].id for index in voter.projects),
                )
                for voter in profile.voters
            )
        return budget_breakdown(areas, ballots, minimum, channels)
    default_scale = document.get("ballot", {}).get("scale")
    scales = {str(q["id"]): q.get("scale") or default_scale for q in definition["questions"]}
    questions = {
        str(q["id"]): [str(o["id"]) if isinstance(o, Mapping) else str(o) for o in q["options"]]
        for q in definition["questions"]
    }
    grouped = [
        preferendum_ballot(
            None, channel.get(str(ballot["receipt"]), "online"), ballot["answers"], scales
        )
        for ballot in record["ballots"]
    ]
    areas_in_order = [str(area["code"]) for area in definition.get("areas", [])]
    return preferendum_breakdown(areas_in_order, questions, grouped, minimum, channels)
