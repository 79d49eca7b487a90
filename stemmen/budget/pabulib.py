"""Read and write the pabulib ``.pb`` format (https://pabulib.org/format).

A file has three sections, each a line with its name followed by a ``;``-separated table with a
header row: META (``key;value``), PROJECTS (first column the project id, whatever its header
says, as pabutools reads it) and VOTES (first column the voter id). Real files differ in line
endings, quoting, optional columns and whether costs carry decimals; reading accepts all of that
and is strict on what is truly broken, naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

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


def _decimal(text: str, line: int, what: str) -> Decimal:
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


def _int(text: str, line: int, what: str) -> int:
    value = _decimal(text, line, what)
    if value != value.to_integral_value():
        raise PabulibError(line, f"{what} {text!r} is not a whole number")
    return int(value)


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def read_pabulib(source: str | Path) -> tuple[Instance, Profile]:
    """Read a ``.pb`` file: a path, or the text itself (anything containing a newline)."""
    if isinstance(source, Path) or "\n" not in source:
        with open(source, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    else:
        text = source.removeprefix("\ufeff")
    return parse_pabulib(text)


def parse_pabulib(text: str) -> tuple[Instance, Profile]:
    reader = csv.reader(io.StringIO(text), delimiter=";", quotechar='"', strict=False)
    section: str | None = None
    header: list[str] | None = None
    header_line = 0
    meta: dict[str, str] = {}
    project_rows: list[tuple[int, list[str]]] = []
    vote_rows: list[tuple[int, list[str]]] = []
    project_header: list[str] = []
    vote_header: list[str] = []
    seen_sections: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) == 1 and row[0].strip().upper() in SECTIONS:
                section = row[0].strip().upper()
                if section in seen_sections:
                    raise PabulibError(line, f"section {section} appears twice")
                seen_sections.append(section)
                header = None
                continue
            if section is None:
                raise PabulibError(line, "expected a section name (META, PROJECTS or VOTES)")
            if header is None:
                header = [cell.strip() for cell in row]
                header_line = line
                if section == "PROJECTS":
                    project_header = header
                elif section == "VOTES":
                    vote_header = header
                elif [cell.lower() for cell in header[:2]] != ["key", "value"]:
                    raise PabulibError(line, "the META header must be 'key;value'")
                continue
            if section == "META":
                if len(row) < 2:
                    raise PabulibError(line, f"META line has no value: {';'.join(row)!r}")
                key = row[0].strip()
                value = ";".join(row[1:]) if len(row) > 2 else row[1]
                if key in meta:
                    raise PabulibError(line, f"META key {key!r} appears twice")
                meta[key] = value.strip()
            elif section == "PROJECTS":
                project_rows.append((line, row))
            else:
                vote_rows.append((line, row))
    except csv.Error as error:
        raise PabulibError(reader.line_num, f"malformed line: {error}") from None
    del header_line
    for required in SECTIONS:
        if required not in seen_sections:
            raise PabulibError(None, f"the file has no {required} section")
    instance = _build_instance(meta, project_header, project_rows)
    profile = _build_profile(instance, meta, vote_header, vote_rows)
    return instance, profile


def _build_instance(
    meta: dict[str, str], header: list[str], rows: list[tuple[int, list[str]]]
) -> Instance:
    if "budget" not in meta:
        raise PabulibError(None, "META has no budget")
    if len(header) < 2 or header[1].lower() != "cost":
        raise PabulibError(None, "the PROJECTS header must start with 'project_id;cost'")
    width = len(header)
    lowered = [column.lower() for column in header]
    category_column = next((lowered.index(c) for c in CATEGORY_COLUMNS if c in lowered), None)
    target_column = next((lowered.index(c) for c in TARGET_COLUMNS if c in lowered), None)
    name_column = lowered.index("name") if "name" in lowered else None
    special = {0, 1, category_column, target_column, name_column}
    attribute_columns = [i for i in range(width) if i not in special]

    budget_value = _decimal(meta["budget"], _meta_line_unknown(), "budget")
    costs: list[tuple[int, Decimal]] = []
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
        costs.append((line, cost))
    unit = 1 if places == 0 else 10 ** max(2, places)
    if budget_value < 0:
        raise PabulibError(None, f"budget {meta['budget']!r} is negative")

    projects: list[Project] = []
    seen: dict[str, int] = {}
    for (line, row), (_, cost) in zip(rows, costs, strict=True):
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


def _meta_line_unknown() -> int:
    # META values are checked after the whole file is read; their line is not kept.
    return 0


def _build_profile(
    instance: Instance, meta: dict[str, str], header: list[str], rows: list[tuple[int, list[str]]]
) -> Profile:
    raw_type = meta.get("vote_type", "approval").strip().lower()
    vote_type = VOTE_TYPE_ALIASES.get(raw_type, raw_type)
    if vote_type not in VOTE_TYPES:
        raise PabulibError(None, f"META vote_type {raw_type!r} is not one this engine knows")
    lowered = [column.lower() for column in header]
    if len(header) < 2 or lowered[1] != "vote":
        raise PabulibError(None, "the VOTES header must start with 'voter_id;vote'")
    points_column = lowered.index("points") if "points" in lowered else None
    if vote_type in ("cumulative", "scoring") and points_column is None:
        raise PabulibError(None, f"{vote_type} votes need a 'points' column")
    attribute_columns = [i for i in range(len(header)) if i not in (0, 1) and i != points_column]
    width = len(header)
    index_of = {project.id: index for index, project in enumerate(instance.projects)}
    voters: list[Voter] = []
    seen_voters: set[str] = set()
    ballot_cache: dict[str, tuple[int, ...]] = {}
    empty: Mapping[str, str] = MappingProxyType({})
    attribute_names = [header[i] for i in attribute_columns]
    for line, row in rows:
        if len(row) != width:
            raise PabulibError(line, f"vote line has {len(row)} fields but the header has {width}")
        voter_id = row[0]
        if voter_id in seen_voters:
            raise PabulibError(line, f"voter id {voter_id!r} appears twice")
        seen_voters.add(voter_id)
        vote_text = row[1]
        projects = ballot_cache.get(vote_text)
        if projects is None:
            projects = _parse_vote(vote_text, index_of, line)
            ballot_cache[vote_text] = projects
        points: tuple[int, ...] | None = None
        if points_column is not None:
            points = _parse_points(row[points_column], len(projects), line)
        attributes = (
            MappingProxyType(
                dict(zip(attribute_names, [row[i] for i in attribute_columns], strict=True))
            )
            if attribute_columns
            else empty
        )
        voters.append(Voter(id=voter_id, projects=projects, points=points, attributes=attributes))
    return Profile(
        vote_type=vote_type,
        voters=tuple(voters),
        min_length=_optional_int(meta, "min_length"),
        max_length=_optional_int(meta, "max_length"),
        min_sum_points=_optional_int(meta, "min_sum_points"),
        max_sum_points=_optional_int(meta, "max_sum_points"),
        min_points=_optional_int(meta, "min_points"),
        max_points=_optional_int(meta, "max_points"),
        voter_columns=tuple(header),
    )


def _parse_vote(text: str, index_of: Mapping[str, int], line: int) -> tuple[int, ...]:
    if not text.strip():
        return ()
    indices: list[int] = []
    for part in text.split(","):
        project_id = part.strip()
        index = index_of.get(project_id)
        if index is None:
            raise PabulibError(line, f"vote names project {project_id!r}, which is not in PROJECTS")
        indices.append(index)
    if len(set(indices)) != len(indices):
        raise PabulibError(line, f"vote lists a project twice: {text!r}")
    return tuple(indices)


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


def _optional_int(meta: Mapping[str, str], name: str) -> int | None:
    text = meta.get(name, "").strip()
    if not text:
        return None
    try:
        return _int(text, 0, f"META {name}")
    except PabulibError as error:
        raise PabulibError(None, f"META {name} {text!r} is not a whole number") from error


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
