"""Read and write the pabulib ``.pb`` format (https://pabulib.org/format).

A file has three sections, each a line with its name followed by a ``;``-separated table with a
header row: META (``key;value``), PROJECTS (first column the project id, whatever its header
says, as pabutools reads it) and VOTES (first column the voter id). Real files differ in line
endings, quoting, optional columns and whether costs carry decimals; reading accepts all of that
and is strict on what is truly broken, naming the line.
"""

from __future__ import annotations

import csv
import gc
import io
import operator
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from stemmen.budget.model import (
    VOTE_TYPES,
    Instance,
    Profile,
    Project,
    Voter,
    VoteType,
    format_money,
)

SECTIONS = ("META", "PROJECTS", "VOTES")
_EMPTY: Mapping[str, str] = MappingProxyType({})
_VOTER_ID = operator.itemgetter(0)
# vote_type values of real files that are another type with a length bound.
VOTE_TYPE_ALIASES: Mapping[str, VoteType] = {"choose-1": "approval"}
CATEGORY_COLUMNS = ("category", "categories")
TARGET_COLUMNS = ("target", "targets")
_LENGTH_FIELDS = (
    "min_length",
    "max_length",
    "min_sum_points",
    "max_sum_points",
    "min_points",
    "max_points",
)


class PabulibError(ValueError):
    """A pabulib file that cannot be read; the message names the line and what is wrong."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.problem = message
        super().__init__(f"line {line}: {message}" if line is not None else message)


def _decimal(text: str, line: int | None, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise PabulibError(line, f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise PabulibError(line, f"{what} {text!r} is not a finite number")
    return value


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _int(text: str, line: int | None, what: str) -> int:
    value = _decimal(text, line, what)
    if value != value.to_integral_value():
        raise PabulibError(line, f"{what} {text!r} is not a whole number")
    return int(value)


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def read_pabulib(source: str | Path, *, unit: int | None = None) -> tuple[Instance, Profile]:
    """Read a ``.pb`` file: a path, or the text itself (anything containing a newline).

    ``unit``: minor units per currency unit to use (say 100 for cents) instead of inferring it
    from the decimals written; refused when an amount has finer decimals than that.
    """
    if isinstance(source, Path) or "\n" not in source:
        with open(source, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    else:
        text = source.removeprefix("\ufeff")
    return parse_pabulib(text, unit=unit)


_SECTION_LINE = re.compile(r"^[ \t]*(META|PROJECTS|VOTES)[ \t;]*\r?$", re.MULTILINE | re.IGNORECASE)

Rows = list[tuple[int, list[str]]]


class _Lines(NamedTuple):
    """A section without quotes, after its header: its lines, not yet split."""

    first_line: int
    lines: list[str]

    def rows(self) -> Rows:
        first = self.first_line
        return [
            (first + offset, text.split(";"))
            for offset, text in enumerate(self.lines)
            if text.strip()
        ]


def _rows(body: str, first_line: int) -> Rows:
    """The non-empty rows of one section with their line numbers in the file.

    A section without quotes is split directly (the VOTES of a city-wide file are most of the
    work); one with quotes goes through the csv module, which understands ``"a;b"`` and ``""``.
    """
    rows: Rows = []
    if '"' not in body:
        for offset, text in enumerate(body.splitlines()):
            if text.strip():
                rows.append((first_line + offset, text.split(";")))
        return rows
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=";", quotechar='"', strict=False)
    line_before = 0
    try:
        for row in reader:
            line = first_line + line_before
            line_before = reader.line_num
            if row and not (len(row) == 1 and not row[0].strip()):
                rows.append((line, row))
    except csv.Error as error:
        raise PabulibError(first_line + reader.line_num - 1, f"malformed line: {error}") from None
    return rows


def parse_pabulib(text: str, *, unit: int | None = None) -> tuple[Instance, Profile]:
    """Read the text of a ``.pb`` file (``unit`` as for ``read_pabulib``)."""
    # Building a hundred thousand small tuples sets off the cyclic garbage collector again and
    # again, though none of them can form a cycle: pause it while reading (a third faster).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, unit)
    finally:
        if collecting:
            gc.enable()


def _parse(text: str, unit: int | None) -> tuple[Instance, Profile]:
    text = text.removeprefix("\ufeff")
    markers = list(_SECTION_LINE.finditer(text))
    first = markers[0].start() if markers else len(text)
    if text[:first].strip():
        bad_line = 1 + text[:first].count("\n") - text[:first].lstrip().count("\n")
        raise PabulibError(bad_line, "expected a section name (META, PROJECTS or VOTES)")
    sections: dict[str, Rows] = {}
    headers: dict[str, tuple[int, list[str]]] = {}
    votes: Rows | _Lines | None = None
    line_number = 1
    position = 0
    for number, marker in enumerate(markers):
        line_number += text.count("\n", position, marker.start())
        position = marker.start()
        name = marker.group(1).upper()
        if name in sections:
            raise PabulibError(line_number, f"section {name} appears twice")
        body_start = text.find("\n", marker.start())
        body_start = len(text) if body_start < 0 else body_start + 1
        body_end = markers[number + 1].start() if number + 1 < len(markers) else len(text)
        body = text[body_start:body_end]
        if name == "VOTES" and '"' not in body:
            # Most of a city-wide file: kept as lines, for _build_profile to read in one pass.
            lines = body.splitlines()
            skip = next((k for k, line in enumerate(lines) if line.strip()), len(lines))
            if skip == len(lines):
                raise PabulibError(line_number, f"section {name} has no header line")
            header_line = line_number + 1 + skip
            headers[name] = (header_line, [cell.strip() for cell in lines[skip].split(";")])
            sections[name] = []
            votes = _Lines(header_line + 1, lines[skip + 1 :])
            continue
        rows = _rows(body, line_number + 1)
        if not rows:
            raise PabulibError(line_number, f"section {name} has no header line")
        header_line, header = rows[0]
        headers[name] = (header_line, [cell.strip() for cell in header])
        sections[name] = rows[1:]
    for required in SECTIONS:
        if required not in sections:
            raise PabulibError(None, f"the file has no {required} section")
    meta_line, meta_header = headers["META"]
    if [cell.lower() for cell in meta_header[:2]] != ["key", "value"]:
        raise PabulibError(meta_line, "the META header must be 'key;value'")
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    for line, row in sections["META"]:
        if len(row) < 2:
            raise PabulibError(line, f"META line has no value: {';'.join(row)!r}")
        key = row[0].strip()
        if key in meta:
            raise PabulibError(
                line, f"META key {key!r} appears twice (first on line {meta_lines[key]})"
            )
        # An unquoted value may itself hold ';': keep it whole.
        meta[key] = (";".join(row[1:]) if len(row) > 2 else row[1]).strip()
        meta_lines[key] = line
    instance = _build_instance(meta, meta_lines, headers["PROJECTS"], sections["PROJECTS"], unit)
    profile = _build_profile(
        instance, meta, meta_lines, headers["VOTES"], sections["VOTES"] if votes is None else votes
    )
    return instance, profile


def _build_instance(
    meta: dict[str, str],
    meta_lines: Mapping[str, int],
    header_row: tuple[int, list[str]],
    rows: Rows,
    forced_unit: int | None = None,
) -> Instance:
    header_line, header = header_row
    if "budget" not in meta:
        raise PabulibError(None, "META has no budget")
    if len(header) < 2 or header[1].lower() != "cost":
        raise PabulibError(header_line, "the PROJECTS header must start with 'project_id;cost'")
    width = len(header)
    lowered = [column.lower() for column in header]
    category_column = next((lowered.index(c) for c in CATEGORY_COLUMNS if c in lowered), None)
    target_column = next((lowered.index(c) for c in TARGET_COLUMNS if c in lowered), None)
    name_column = lowered.index("name") if "name" in lowered else None
    special = {0, 1, category_column, target_column, name_column}
    attribute_columns = [i for i in range(width) if i not in special]

    budget_line = meta_lines.get("budget")
    budget_value = _decimal(meta["budget"], budget_line, "budget")
    if budget_value < 0:
        raise PabulibError(budget_line, f"budget {meta['budget']!r} is negative")
    costs: list[Decimal] = []
    places = _decimals(budget_value)
    for line, row in rows:
        if len(row) != width:
            raise PabulibError(
                line, f"project line has {len(row)} fields but the header has {width}"
            )
        cost = _decimal(row[1], line, "cost")
        if cost < 0:
            raise PabulibError(line, f"cost {row[1]!r} is negative")
        places = max(places, _decimals(cost))
        costs.append(cost)
    # Minor units: 1 when every amount is whole, else cents (or finer when a file needs it).
    unit = 1 if places == 0 else 10 ** max(2, places)
    if forced_unit is not None:
        if forced_unit < 1 or any((amount * forced_unit) % 1 for amount in (budget_value, *costs)):
            raise PabulibError(
                None, f"amounts in the file are finer than 1/{forced_unit} of a currency unit"
            )
        unit = forced_unit

    projects: list[Project] = []
    seen: dict[str, int] = {}
    for (line, row), cost in zip(rows, costs, strict=True):
        project_id = row[0].strip()
        if not project_id:
            raise PabulibError(line, "project id is empty")
        if project_id in seen:
            raise PabulibError(
                line, f"project id {project_id!r} already used on line {seen[project_id]}"
            )
        seen[project_id] = line
        projects.append(
            Project(
                id=project_id,
                cost=int(cost * unit),
                name=row[name_column] if name_column is not None else "",
                categories=_split_list(row[category_column]) if category_column is not None else (),
                targets=_split_list(row[target_column]) if target_column is not None else (),
                attributes=MappingProxyType({header[i]: row[i] for i in attribute_columns}),
            )
        )
    return Instance(
        projects=tuple(projects),
        budget=int(budget_value * unit),
        unit=unit,
        meta=MappingProxyType(dict(meta)),
        project_columns=tuple(header),
    )


def _build_profile(
    instance: Instance,
    meta: dict[str, str],
    meta_lines: Mapping[str, int],
    header_row: tuple[int, list[str]],
    section: Rows | _Lines,
) -> Profile:
    header_line, header = header_row
    raw_type = meta.get("vote_type", "approval").strip().lower()
    vote_type = VOTE_TYPE_ALIASES.get(raw_type, raw_type)
    if vote_type not in VOTE_TYPES:
        raise PabulibError(
            meta_lines.get("vote_type"), f"META vote_type {raw_type!r} is not one this engine knows"
        )
    lowered = [column.lower() for column in header]
    if len(header) < 2 or lowered[1] != "vote":
        raise PabulibError(header_line, "the VOTES header must start with 'voter_id;vote'")
    points_column = lowered.index("points") if "points" in lowered else None
    if vote_type in ("cumulative", "scoring") and points_column is None:
        raise PabulibError(header_line, f"{vote_type} votes need a 'points' column")
    attribute_columns = [i for i in range(len(header)) if i not in (0, 1) and i != points_column]
    attribute_names = tuple(header[i] for i in attribute_columns)
    width = len(header)
    index_of = {project.id: index for index, project in enumerate(instance.projects)}
    fast = None
    if isinstance(section, _Lines) and attribute_columns == list(range(2, width)):
        # No points column and the attributes, if any, after the vote: the common file.
        fast = _voters_from_lines(section.lines, width, index_of, attribute_names)
    if fast is not None:
        voters, text_counts, ballot_cache = fast
    else:
        rows = section.rows() if isinstance(section, _Lines) else section
        voters, text_counts, ballot_cache = _voters_from_rows(
            rows, width, index_of, points_column, attribute_columns, attribute_names
        )
    bounds = {name: _optional_int(meta, meta_lines, name) for name in _LENGTH_FIELDS}
    ballot_counts: dict[tuple[tuple[int, ...], tuple[int, ...] | None], int] | None = None
    if points_column is None:
        ballot_counts = {}
        for text, count in text_counts.items():
            key = (ballot_cache[text], None)
            # Texts that differ only in spacing name the same projects.
            ballot_counts[key] = ballot_counts.get(key, 0) + count
    profile = Profile(
        vote_type=vote_type,
        voters=tuple(voters),
        min_length=bounds["min_length"],
        max_length=bounds["max_length"],
        min_sum_points=bounds["min_sum_points"],
        max_sum_points=bounds["max_sum_points"],
        min_points=bounds["min_points"],
        max_points=bounds["max_points"],
        voter_columns=tuple(header),
    )
    return profile if ballot_counts is None else profile.with_ballot_counts(ballot_counts)


def _voters_from_rows(
    rows: Rows,
    width: int,
    index_of: Mapping[str, int],
    points_column: int | None,
    attribute_columns: list[int],
    attribute_names: tuple[str, ...],
) -> tuple[list[Voter], dict[str, int], dict[str, tuple[int, ...]]]:
    """The voters row by row, refusing the first line at fault; every file can be read so."""
    ballot_cache: dict[str, tuple[int, ...]] = {}
    text_counts: dict[str, int] = {}
    # Voters share few distinct attribute rows (age, sex, channel): build each mapping once.
    attribute_cache: dict[tuple[str, ...], Mapping[str, str]] = {(): _EMPTY}
    contiguous = attribute_columns == list(range(2, 2 + len(attribute_columns)))
    take = operator.itemgetter(*attribute_columns) if len(attribute_columns) > 1 else None
    new_voter = tuple.__new__
    voters: list[Voter] = []
    append = voters.append
    for line, row in rows:
        if len(row) != width:
            raise PabulibError(line, f"vote line has {len(row)} fields but the header has {width}")
        vote_text = row[1]
        projects = ballot_cache.get(vote_text)
        if projects is None:
            projects = ballot_cache[vote_text] = _parse_vote(vote_text, index_of, line)
            text_counts[vote_text] = 1
        else:
            text_counts[vote_text] += 1
        points = (
            None
            if points_column is None
            else _parse_points(row[points_column], len(projects), line)
        )
        if not attribute_columns:
            values: tuple[str, ...] = ()
        elif contiguous:
            values = tuple(row[2:])
        elif take is not None:
            values = take(row)
        else:
            values = (row[attribute_columns[0]],)
        attributes = attribute_cache.get(values)
        if attributes is None:
            attributes = attribute_cache[values] = MappingProxyType(
                dict(zip(attribute_names, values, strict=True))
            )
        append(new_voter(Voter, (row[0], projects, points, attributes)))
    if len({voter.id for voter in voters}) != len(voters):
        first_seen: dict[str, int] = {}
        for line, row in rows:
            if row[0] in first_seen:
                raise PabulibError(
                    line, f"voter id {row[0]!r} already used on line {first_seen[row[0]]}"
                )
            first_seen[row[0]] = line
    return voters, text_counts, ballot_cache


def _voters_from_lines(
    lines: list[str],
    width: int,
    index_of: Mapping[str, int],
    attribute_names: tuple[str, ...],
) -> tuple[list[Voter], dict[str, int], dict[str, tuple[int, ...]]] | None:
    """The voters of a file with no quotes, no points and its attributes after the vote.

    Each line is split only into id, vote and the rest; the rest, as text, finds the shared
    attribute mapping (voters share few distinct rows of age, sex, channel). None on anything
    out of the ordinary (a blank line inside, a short line, an unknown project, a repeated id):
    reading row by row then names the line.
    """
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    pieces = 3 if width > 2 else 2
    ballot_cache: dict[str, tuple[int, ...]] = {}
    text_counts: dict[str, int] = {}
    attribute_cache: dict[str, Mapping[str, str]] = {}
    new_voter = tuple.__new__
    voters: list[Voter] = []
    append = voters.append
    for text in lines if end == len(lines) else lines[:end]:
        parts = text.split(";", 2)
        if len(parts) != pieces:
            return None
        vote_text = parts[1]
        projects = ballot_cache.get(vote_text)
        if projects is None:
            try:
                projects = ballot_cache[vote_text] = _parse_vote(vote_text, index_of, 0)
            except PabulibError:
                return None
            text_counts[vote_text] = 1
        else:
            text_counts[vote_text] += 1
        attributes: Mapping[str, str] | None = _EMPTY
        if pieces == 3:
            attributes = attribute_cache.get(parts[2])
            if attributes is None:
                values = parts[2].split(";")
                if len(values) != len(attribute_names):
                    return None
                attributes = attribute_cache[parts[2]] = MappingProxyType(
                    dict(zip(attribute_names, values, strict=True))
                )
        append(new_voter(Voter, (parts[0], projects, None, attributes)))
    if len(set(map(_VOTER_ID, voters))) != len(voters):
        return None
    return voters, text_counts, ballot_cache


def _parse_vote(text: str, index_of: Mapping[str, int], line: int) -> tuple[int, ...]:
    try:
        # The common case: ids written exactly as in PROJECTS, each once.
        indices = tuple(map(index_of.__getitem__, text.split(",")))
    except KeyError:
        if not text.strip():
            return ()
        indices = tuple(_project_index(part, index_of, line) for part in text.split(","))
    if len(set(indices)) != len(indices):
        raise PabulibError(line, f"vote lists a project twice: {text!r}")
    return indices


def _project_index(part: str, index_of: Mapping[str, int], line: int) -> int:
    index = index_of.get(part.strip())
    if index is None:
        raise PabulibError(line, f"vote names project {part.strip()!r}, which is not in PROJECTS")
    return index


def _parse_points(text: str, expected: int, line: int) -> tuple[int, ...]:
    parts = [part for part in text.split(",") if part.strip()] if text.strip() else []
    if len(parts) != expected:
        raise PabulibError(line, f"{len(parts)} points for {expected} projects voted for")
    values: list[int] = []
    for part in parts:
        try:
            values.append(int(part))
        except ValueError:
            values.append(_int(part, line, "points"))
    return tuple(values)


def _optional_int(meta: Mapping[str, str], meta_lines: Mapping[str, int], name: str) -> int | None:
    text = meta.get(name, "").strip()
    if not text:
        return None
    return _int(text, meta_lines.get(name), f"META {name}")


# --- writing -------------------------------------------------------------------------------


def write_pabulib(instance: Instance, profile: Profile) -> str:
    """The ``.pb`` text of an instance and profile; reading it back gives equal objects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator="\n")
    meta = dict(instance.meta)
    budget_text = meta.get("budget")
    if budget_text is None or _same_money(budget_text, instance.budget, instance.unit) is False:
        meta["budget"] = format_money(instance.budget, instance.unit)
    if (
        "vote_type" not in meta
        or VOTE_TYPE_ALIASES.get(meta["vote_type"].lower(), meta["vote_type"].lower())
        != profile.vote_type
    ):
        meta["vote_type"] = profile.vote_type
    for name in _LENGTH_FIELDS:
        value = getattr(profile, name)
        if value is None:
            meta.pop(name, None)
        elif _optional_int_or_none(meta.get(name)) != value:
            meta[name] = str(value)
    buffer.write("META\n")
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([key, value])

    buffer.write("PROJECTS\n")
    columns = _project_columns(instance)
    writer.writerow(columns)
    lowered = [column.lower() for column in columns]
    for project in instance.projects:
        cells: list[str] = []
        for position, column in enumerate(columns):
            name = lowered[position]
            if position == 0:
                cells.append(project.id)
            elif position == 1:
                cells.append(format_money(project.cost, instance.unit))
            elif name in CATEGORY_COLUMNS:
                cells.append(",".join(project.categories))
            elif name in TARGET_COLUMNS:
                cells.append(",".join(project.targets))
            elif name == "name":
                cells.append(project.name)
            else:
                cells.append(project.attributes.get(column, ""))
        writer.writerow(cells)

    buffer.write("VOTES\n")
    vote_columns = _voter_columns(profile)
    writer.writerow(vote_columns)
    ids = [project.id for project in instance.projects]
    for voter in profile.voters:
        row: list[str] = []
        for position, column in enumerate(vote_columns):
            if position == 0:
                row.append(voter.id)
            elif position == 1:
                row.append(",".join(ids[index] for index in voter.projects))
            elif column.lower() == "points":
                row.append(",".join(str(p) for p in voter.points or ()))
            else:
                row.append(voter.attributes.get(column, ""))
        writer.writerow(row)
    return buffer.getvalue()


def _same_money(text: str, minor: int, unit: int) -> bool | None:
    try:
        return Fraction(Decimal(text.strip())) * unit == minor
    except (InvalidOperation, ValueError):
        return False


def _optional_int_or_none(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return int(Decimal(text.strip()))
    except (InvalidOperation, ValueError):
        return None


def _project_columns(instance: Instance) -> list[str]:
    columns = list(instance.project_columns) or ["project_id", "cost"]
    lowered = [column.lower() for column in columns]
    extra: list[str] = []
    if any(project.name for project in instance.projects) and "name" not in lowered:
        extra.append("name")
    if any(project.categories for project in instance.projects) and not any(
        c in lowered for c in CATEGORY_COLUMNS
    ):
        extra.append("category")
    if any(project.targets for project in instance.projects) and not any(
        c in lowered for c in TARGET_COLUMNS
    ):
        extra.append("target")
    for project in instance.projects:
        for key in project.attributes:
            if key not in columns and key not in extra:
                extra.append(key)
    return columns + extra


def _voter_columns(profile: Profile) -> list[str]:
    columns = list(profile.voter_columns) or ["voter_id", "vote"]
    lowered = [column.lower() for column in columns]
    if profile.vote_type in ("cumulative", "scoring") and "points" not in lowered:
        columns.append("points")
    for voter in profile.voters:
        for key in voter.attributes:
            if key not in columns:
                columns.append(key)
    return columns
