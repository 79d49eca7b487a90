"""The council's rule set (kader) as data: validation, canonical hashing and a typed view.

Pure: the web feature beside this module stores versions and serves the schema; everything that
decides whether a document or a round's settings are acceptable lives here.

A document is valid when it passes the published JSON schema (``ruleset.schema.json``) and the
checks that span several fields, which a schema cannot express (``cost_min_cents <=
cost_max_cents``, allocation only for budget instruments, a tie-break that ends in a lottery...).
Cross-field checks run only once the schema passes, so each of them may rely on the shapes the
schema guarantees. Every problem names its JSON pointer and says, in English and Dutch, what a
council clerk should change.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, Final, TypeVar

import jsonschema
import rfc8785

from stemmen.errors import InvalidInput

SCHEMA_VERSION: Final = 1
SCHEMA_RESOURCE: Final = "ruleset.schema.json"

BUDGET_INSTRUMENTS: Final = ("buurtbegroting", "wijkbudget", "burgerbegroting")
QUESTION_INSTRUMENTS: Final = ("preferendum", "wijkpeiling", "stadspeiling", "peiling")

# The order a round runs its optional phases in; draft, closed and published always exist.
PHASE_ORDER: Final = ("submission", "review", "supports", "voting")
PROPOSAL_PHASES: Final = ("submission", "review", "supports")

BALLOT_FORMATS: Final = (
    "approval",
    "knapsack",
    "k-approval",
    "cumulative",
    "ranking",
    "grades",
    "scores",
)
SELECTION_FORMATS: Final = ("approval", "knapsack", "k-approval")
BUDGET_BALLOT_FORMATS: Final = (
    "approval",
    "knapsack",
    "k-approval",
    "cumulative",
    "ranking",
    "scores",
)
QUESTION_BALLOT_FORMATS: Final = (
    "approval",
    "k-approval",
    "cumulative",
    "ranking",
    "grades",
    "scores",
)

# Which ballot formats each tally method can read; the tally engine's methods take these inputs.
TALLY_FORMATS: Final[Mapping[str, tuple[str, ...]]] = {
    "plurality": ("approval", "k-approval", "ranking"),
    "approval": ("approval", "k-approval"),
    "score-sum": ("cumulative", "scores", "grades"),
    "score-mean": ("cumulative", "scores", "grades"),
    "borda": ("ranking",),
    "mbc": ("ranking",),
    "majority-judgment": ("grades", "scores"),
    "star": ("scores",),
    "irv": ("ranking",),
    "copeland": ("ranking",),
    "schulze": ("ranking",),
    "ranked-pairs": ("ranking",),
}
TALLY_METHODS: Final = tuple(TALLY_FORMATS)

SATISFACTION_RULES: Final = ("max-welfare", "mes")
# The satisfaction a rule is computed with when the rule set leaves it out: the budget engine's
# own defaults (``welfare.max_welfare`` and ``mes.equal_shares``), which results and bundles
# have always used; a test holds the two together.
DEFAULT_SATISFACTION: Final = {"max-welfare": "cardinality", "mes": "cost"}

# Who may act on a round (administration.officials): every official, or only the round's team.
ANY_OFFICIAL: Final = "any-official"
ROUND_TEAM: Final = "round-team"
OFFICIALS_MODES: Final = (ANY_OFFICIAL, ROUND_TEAM)
POINTS_FORMATS: Final = ("cumulative", "scores")

PHASE_NAMES_EN: Final[Mapping[str, str]] = {
    "submission": "submission phase",
    "review": "review phase",
    "supports": "supports phase",
    "voting": "voting phase",
}
PHASE_NAMES_NL: Final[Mapping[str, str]] = {
    "submission": "indienfase",
    "review": "beoordelingsfase",
    "supports": "steunfase",
    "voting": "stemfase",
}


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class RuleSetProblem:
    """One thing wrong with a rule set, or with a round's settings under a rule set.

    ``path`` is a JSON pointer into the document checked (``/ballot/max_selections``; for a
    round, into its settings: ``/phases/voting``). ``rule`` is the dotted name of the rule-set
    rule a round breaks (``round_bounds.phase_days.voting.min``), or None for document problems.
    """

    path: str
    code: str
    message_en: str
    message_nl: str
    rule: str | None = None

    def as_dict(self) -> dict[str, str]:
        body = {
            "path": self.path,
            "code": self.code,
            "message_en": self.message_en,
            "message_nl": self.message_nl,
        }
        if self.rule is not None:
            body["rule"] = self.rule
        return body


class RuleSetInvalid(InvalidInput):
    """A rule set that cannot be used; ``problems`` says every reason found."""

    code = "ruleset_invalid"

    def __init__(self, problems: Sequence[RuleSetProblem]) -> None:
        self.problems: tuple[RuleSetProblem, ...] = tuple(problems)
        count = len(self.problems)
        first = self.problems[0] if self.problems else None
        summary_en = f"the rule set has {count} problem{'s' if count != 1 else ''}"
        summary_nl = f"het kader heeft {count} probleem{'en' if count != 1 else ''}"
        if first is not None:
            summary_en += f"; first, at {first.path}: {first.message_en}"
            summary_nl += f"; eerste, bij {first.path}: {first.message_nl}"
        super().__init__(
            summary_en,
            details={"problems": [problem.as_dict() for problem in self.problems]},
            message_nl=summary_nl,
        )


class RoundOutOfBounds(InvalidInput):
    """A round's settings that leave the council's frame; raised by services, built here."""

    code = "round_out_of_bounds"

    def __init__(self, problems: Sequence[RuleSetProblem]) -> None:
        self.problems: tuple[RuleSetProblem, ...] = tuple(problems)
        super().__init__(
            "; ".join(problem.message_en for problem in self.problems),
            details={"problems": [problem.as_dict() for problem in self.problems]},
            message_nl="; ".join(problem.message_nl for problem in self.problems),
        )


def _pointer(parts: Sequence[str | int]) -> str:
    # RFC 6901: "~" and "/" inside a key are escaped.
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _eur(cents: int, lang: str) -> str:
    # Imported here: stemmen.ballots (which holds the shared money format) imports this module.
    from stemmen.ballots.money import format_eur

    return format_eur(cents, lang)


def _quote(value: object, limit: int = 80) -> str:
    # A whole misplaced section quoted back would bury the message; the path already locates it.
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- canonical form


def canonical_json(document: Any) -> bytes:
    """The RFC 8785 (JCS) canonical JSON of a document: same content, same bytes."""
    return rfc8785.dumps(document)


def ruleset_hash(document: Any) -> str:
    """Hex SHA-256 of the canonical JSON: the id of a rule-set version."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


# --------------------------------------------------------------------------- schema


@cache
def ruleset_schema() -> Mapping[str, Any]:
    """The published JSON schema (draft 2020-12), as shipped in the package."""
    text = resources.files("stemmen.rules").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_document() -> dict[str, Any]:
    """A fresh copy of the published schema, safe to hand out and modify."""
    return copy.deepcopy(dict(ruleset_schema()))


@cache
def _schema_validator() -> jsonschema.protocols.Validator:
    schema = ruleset_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(schema)
    return validator


_TYPE_NAMES_EN: Final[Mapping[str, str]] = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object with named fields",
    "null": "null (empty)",
}
_TYPE_NAMES_NL: Final[Mapping[str, str]] = {
    "integer": "een geheel getal",
    "number": "een getal",
    "string": "tekst",
    "boolean": "true of false",
    "array": "een lijst",
    "object": "een object met benoemde velden",
    "null": "null (leeg)",
}


def _type_names(expected: object, names: Mapping[str, str], joiner: str) -> str:
    if isinstance(expected, str):
        kinds: list[object] = [expected]
    else:
        kinds = list(expected)  # type: ignore[call-overload]
    return joiner.join(names.get(str(kind), str(kind)) for kind in kinds)


def _pattern_message(pattern: str, value: object) -> tuple[str, str]:
    if pattern.startswith("^(GM"):
        return (
            f"{_quote(value)} is not a CBS area code: write GM and 4 digits (municipality), "
            "WK and 6 digits (district) or BU and 8 digits (neighbourhood), for example GM0268",
            f"{_quote(value)} is geen CBS-gebiedscode: schrijf GM en 4 cijfers (gemeente), "
            "WK en 6 cijfers (wijk) of BU en 8 cijfers (buurt), bijvoorbeeld GM0268",
        )
    if pattern.startswith("^[0-9]{4}-"):
        return (
            f"{_quote(value)} is not a date written as YYYY-MM-DD, for example 2024-02-28",
            f"{_quote(value)} is geen datum in de vorm JJJJ-MM-DD, bijvoorbeeld 2024-02-28",
        )
    if pattern.startswith("^https?"):
        return (
            f"{_quote(value)} is not a web address starting with https:// or http://",
            f"{_quote(value)} is geen webadres dat begint met https:// of http://",
        )
    return (
        f"{_quote(value)} does not have the required form {pattern}",
        f"{_quote(value)} heeft niet de vereiste vorm {pattern}",
    )


def _schema_problems(error: jsonschema.ValidationError) -> Iterator[RuleSetProblem]:
    """Translate one schema error into problems a clerk can act on, in both languages."""
    parts: list[str | int] = list(error.absolute_path)
    path = _pointer(parts)
    kind = str(error.validator)
    expected: Any = error.validator_value
    value: Any = error.instance
    code = f"schema_{kind}"
    if kind == "required" and isinstance(value, Mapping):
        for name in expected:
            if name not in value:
                yield RuleSetProblem(
                    _pointer([*parts, name]),
                    "missing_field",
                    f"the field {_quote(name)} is missing here; add it",
                    f"het veld {_quote(name)} ontbreekt hier; voeg het toe",
                )
        return
    if kind == "additionalProperties" and isinstance(value, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = sorted(schema.get("properties", {}))
        for name in sorted(set(value) - set(known)):
            known_en = ", ".join(known) if known else "none"
            known_nl = ", ".join(known) if known else "geen"
            yield RuleSetProblem(
                _pointer([*parts, name]),
                "unknown_field",
                f"the field {_quote(name)} is not part of a rule set here "
                f"(check the spelling; known fields: {known_en})",
                f"het veld {_quote(name)} hoort hier niet in een kader "
                f"(controleer de spelling; bekende velden: {known_nl})",
            )
        return
    if kind == "enum":
        choices = ", ".join(str(choice) for choice in expected)
        en = f"{_quote(value)} is not allowed here; choose one of: {choices}"
        nl = f"{_quote(value)} is hier niet toegestaan; kies uit: {choices}"
    elif kind == "const":
        en = f"must be {_quote(expected)}, not {_quote(value)}"
        nl = f"moet {_quote(expected)} zijn, niet {_quote(value)}"
    elif kind == "type":
        en = f"must be {_type_names(expected, _TYPE_NAMES_EN, ' or ')}, not {_quote(value)}"
        nl = f"moet {_type_names(expected, _TYPE_NAMES_NL, ' of ')} zijn, niet {_quote(value)}"
    elif kind == "minimum":
        en = f"must be at least {expected}, not {value}"
        nl = f"moet minstens {expected} zijn, niet {value}"
    elif kind == "maximum":
        en = f"must be at most {expected}, not {value}"
        nl = f"mag hoogstens {expected} zijn, niet {value}"
    elif kind == "minLength":
        en = "must not be empty" if expected == 1 else f"must be at least {expected} characters"
        nl = "mag niet leeg zijn" if expected == 1 else f"moet minstens {expected} tekens lang zijn"
    elif kind == "maxLength":
        en = f"is too long: at most {expected} characters"
        nl = f"is te lang: hoogstens {expected} tekens"
    elif kind == "minItems":
        en = f"must list at least {expected} item{'s' if expected != 1 else ''}"
        nl = f"moet minstens {expected} item{'s' if expected != 1 else ''} noemen"
    elif kind == "maxItems":
        en = f"may list at most {expected} items"
        nl = f"mag hoogstens {expected} items noemen"
    elif kind == "uniqueItems":
        en = "lists the same value more than once; list each value once"
        nl = "noemt dezelfde waarde meer dan eens; noem elke waarde één keer"
    elif kind == "minProperties":
        en = "must set at least one field"
        nl = "moet minstens één veld invullen"
    elif kind == "pattern":
        en, nl = _pattern_message(str(expected), value)
    elif kind == "oneOf" and parts and parts[-1] == "min_support":
        en = 'must be null, {"votes": N} or {"percent_of_voters": P} with P from 1 to 100'
        nl = 'moet null, {"votes": N} of {"percent_of_voters": P} zijn, met P van 1 tot 100'
    elif kind == "propertyNames":
        en = "names here must be 1 to 100 characters long"
        nl = "namen hier moeten 1 tot 100 tekens lang zijn"
    else:
        en = error.message
        nl = error.message
    yield RuleSetProblem(path or "/", code, en, nl)


# --------------------------------------------------------------------------- cross-field checks


class _Checker:
    """Collects the cross-field problems of a document the schema has accepted."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.doc = document
        self.problems: list[RuleSetProblem] = []

    def add(self, path: str, code: str, en: str, nl: str) -> None:
        self.problems.append(RuleSetProblem(path, code, en, nl))

    # The checks, each a small method so that adding one is one method and one line in run().
    def run(self) -> list[RuleSetProblem]:
        self.check_decision_date()
        self.check_ages()
        self.check_instrument_parts()
        self.check_phases()
        self.check_proposals()
        self.check_ballot()
        self.check_allocation()
        self.check_tally()
        self.check_tie_break()
        self.check_round_bounds()
        return self.problems

    @property
    def is_budget(self) -> bool:
        return str(self.doc["instrument"]) in BUDGET_INSTRUMENTS

    def check_decision_date(self) -> None:
        text = self.doc["council_decision"]["date"]
        try:
            date.fromisoformat(text)
        except ValueError:
            self.add(
                "/council_decision/date",
                "invalid_date",
                f"{_quote(text)} is not a date in the calendar",
                f"{_quote(text)} is geen bestaande datum",
            )

    def check_ages(self) -> None:
        eligibility = self.doc["eligibility"]
        max_age = eligibility.get("max_age")
        if max_age is not None and max_age < eligibility["min_age"]:
            self.add(
                "/eligibility/max_age",
                "max_below_min",
                f"the maximum age {max_age} is below the minimum age {eligibility['min_age']}",
                f"de maximumleeftijd {max_age} ligt onder de minimumleeftijd "
                f"{eligibility['min_age']}",
            )

    def check_instrument_parts(self) -> None:
        instrument = self.doc["instrument"]
        family_en = "a participatory budget" if self.is_budget else "a preferendum or poll"
        family_nl = (
            "een participatieve begroting" if self.is_budget else "een preferendum of peiling"
        )
        required = ("proposals", "allocation") if self.is_budget else ("tally",)
        forbidden = ("tally",) if self.is_budget else ("proposals", "allocation")
        for part in required:
            if part not in self.doc:
                self.add(
                    f"/{part}",
                    "missing_field",
                    f"{instrument} is {family_en} and needs the section {_quote(part)}",
                    f"{instrument} is {family_nl} en heeft een sectie {_quote(part)} nodig",
                )
        for part in forbidden:
            if part in self.doc:
                self.add(
                    f"/{part}",
                    "not_for_instrument",
                    f"{instrument} is {family_en}: the section {_quote(part)} does not apply; "
                    "remove it",
                    f"{instrument} is {family_nl}: een sectie {_quote(part)} is hier niet van "
                    "toepassing; haal die weg",
                )

    def check_phases(self) -> None:
        phases = list(self.doc["phases"])
        if "voting" not in phases:
            self.add(
                "/phases",
                "voting_phase_missing",
                'every round votes: add "voting" to the phases',
                'elke ronde kent een stemfase: voeg "voting" toe aan de fasen',
            )
        in_order = [phase for phase in PHASE_ORDER if phase in phases]
        if phases != in_order:
            self.add(
                "/phases",
                "phases_out_of_order",
                f"phases run in the order {', '.join(in_order)}; list them in that order",
                f"fasen lopen in de volgorde {', '.join(in_order)}; zet ze in die volgorde",
            )
        if not self.is_budget:
            for index, phase in enumerate(phases):
                if phase in PROPOSAL_PHASES:
                    self.add(
                        f"/phases/{index}",
                        "not_for_instrument",
                        f"the {PHASE_NAMES_EN[phase]} is about proposals, which "
                        f"{self.doc['instrument']} does not have; remove it",
                        f"de {PHASE_NAMES_NL[phase]} gaat over voorstellen, die "
                        f"{self.doc['instrument']} niet kent; haal die weg",
                    )
            return
        proposals = self.doc.get("proposals")
        if proposals is None:
            return
        residents_submit = proposals["who_may_submit"] != "officials-only"
        self._phase_matches(
            phases,
            "submission",
            residents_submit,
            "/proposals/who_may_submit",
            f'residents may submit proposals ("{proposals["who_may_submit"]}")',
            f'inwoners mogen voorstellen indienen ("{proposals["who_may_submit"]}")',
        )
        self._phase_matches(
            phases,
            "review",
            bool(proposals["review"]),
            "/proposals/review",
            "proposals.review is true",
            "proposals.review is true",
        )
        self._phase_matches(
            phases,
            "supports",
            proposals.get("supports_needed", 0) > 0,
            "/proposals/supports_needed",
            f"proposals need {proposals.get('supports_needed', 0)} supports",
            f"voorstellen hebben {proposals.get('supports_needed', 0)} steunbetuigingen nodig",
        )

    def _phase_matches(
        self,
        phases: Sequence[str],
        phase: str,
        needed: bool,
        reason_path: str,
        reason_en: str,
        reason_nl: str,
    ) -> None:
        if needed and phase not in phases:
            self.add(
                "/phases",
                "phase_missing",
                f"{reason_en}, so the phases must include {_quote(phase)}",
                f"{reason_nl}, dus de fasen moeten {_quote(phase)} bevatten",
            )
        elif not needed and phase in phases:
            self.add(
                reason_path,
                "phase_without_purpose",
                f"the phases include {_quote(phase)}, but {reason_path[1:].replace('/', '.')} "
                f"says the {PHASE_NAMES_EN[phase]} has nothing to do; change one of the two",
                f"de fasen bevatten {_quote(phase)}, maar volgens "
                f"{reason_path[1:].replace('/', '.')} heeft de {PHASE_NAMES_NL[phase]} niets te "
                "doen; pas een van beide aan",
            )

    def check_proposals(self) -> None:
        proposals = self.doc.get("proposals")
        if proposals is None:
            return
        low, high = proposals["cost_min_cents"], proposals["cost_max_cents"]
        if low > high:
            self.add(
                "/proposals/cost_max_cents",
                "max_below_min",
                f"the highest cost ({_eur(high, 'en')}) is below the lowest cost "
                f"({_eur(low, 'en')})",
                f"de hoogste kosten ({_eur(high, 'nl')}) liggen onder de laagste kosten "
                f"({_eur(low, 'nl')})",
            )
        bounds = self.doc.get("round_bounds", {}).get("budget_cents_per_area")
        if bounds is not None and low > bounds["max"]:
            self.add(
                "/proposals/cost_min_cents",
                "proposal_exceeds_budget",
                f"the lowest cost of a proposal ({_eur(low, 'en')}) is above the highest budget "
                f"an area may have ({_eur(bounds['max'], 'en')}): no proposal could ever be funded",
                f"de laagste kosten van een voorstel ({_eur(low, 'nl')}) liggen boven het hoogste "
                f"budget dat een gebied mag krijgen ({_eur(bounds['max'], 'nl')}): geen voorstel "
                "kan ooit "
                "worden uitgevoerd",
            )

    def check_ballot(self) -> None:
        ballot = self.doc["ballot"]
        kind = ballot["format"]
        allowed = BUDGET_BALLOT_FORMATS if self.is_budget else QUESTION_BALLOT_FORMATS
        if kind not in allowed:
            self.add(
                "/ballot/format",
                "format_not_for_instrument",
                f"the ballot format {_quote(kind)} does not fit {self.doc['instrument']}; "
                f"choose one of: {', '.join(allowed)}",
                f"het stembiljet {_quote(kind)} past niet bij {self.doc['instrument']}; "
                f"kies uit: {', '.join(allowed)}",
            )
        low, high = ballot.get("min_selections"), ballot.get("max_selections")
        if low is not None and high is not None and low > high:
            self.add(
                "/ballot/max_selections",
                "max_below_min",
                f"the most selections ({high}) is below the fewest ({low})",
                f"het hoogste aantal keuzes ({high}) ligt onder het laagste ({low})",
            )
        if kind == "k-approval" and high is None:
            self.add(
                "/ballot/max_selections",
                "missing_field",
                "a k-approval ballot needs max_selections: how many options a voter may tick",
                "een k-approval-stembiljet heeft max_selections nodig: hoeveel opties een kiezer "
                "mag aankruisen",
            )
        if kind == "knapsack" and ballot.get("within_budget") is False:
            self.add(
                "/ballot/within_budget",
                "knapsack_within_budget",
                "a knapsack ballot always keeps the choice within the budget: "
                "set within_budget to true or leave it out",
                "bij een knapsack-stembiljet blijft de keuze altijd binnen het budget: "
                "zet within_budget op true of laat het weg",
            )
        if not self.is_budget and ballot.get("within_budget"):
            self.add(
                "/ballot/within_budget",
                "not_for_instrument",
                "a preferendum or poll has no budget: remove within_budget",
                "een preferendum of peiling heeft geen budget: haal within_budget weg",
            )
        self._only_for_formats("max_points", ("cumulative",), required=True)
        self._only_for_formats("max_points_per_option", ("cumulative",), required=False)
        points, per_option = ballot.get("max_points"), ballot.get("max_points_per_option")
        if points is not None and per_option is not None and per_option > points:
            self.add(
                "/ballot/max_points_per_option",
                "max_above_total",
                f"one option may not get more points ({per_option}) than a voter has ({points})",
                f"één optie kan niet meer punten krijgen ({per_option}) dan een kiezer heeft "
                f"({points})",
            )
        self._only_for_formats("scale", ("grades", "scores"), required=True)
        self._only_for_formats("ranking", ("ranking",), required=False)
        self.check_scale(kind, ballot.get("scale"))
        if ballot.get("max_questions") is not None and self.is_budget:
            self.add(
                "/ballot/max_questions",
                "not_for_instrument",
                "a participatory budget asks no questions: remove max_questions",
                "een participatieve begroting stelt geen vragen: haal max_questions weg",
            )
        if ballot.get("paper_online_exclusive") and len(ballot["channels"]) < 2:
            self.add(
                "/ballot/paper_online_exclusive",
                "needs_both_channels",
                "paper_online_exclusive only means something when both online and paper "
                "ballots are used",
                "paper_online_exclusive heeft alleen betekenis als zowel online als op papier "
                "wordt gestemd",
            )

    def _only_for_formats(self, name: str, formats: tuple[str, ...], *, required: bool) -> None:
        ballot = self.doc["ballot"]
        kind = ballot["format"]
        present = ballot.get(name) is not None
        if kind in formats and required and not present:
            self.add(
                f"/ballot/{name}",
                "missing_field",
                f"a {kind} ballot needs {name}",
                f"een stembiljet van de vorm {kind} heeft {name} nodig",
            )
        elif kind not in formats and present:
            self.add(
                f"/ballot/{name}",
                "not_for_format",
                f"{name} applies only to {' or '.join(formats)} ballots, not to {kind}; remove it",
                f"{name} geldt alleen voor {' of '.join(formats)}-stembiljetten, niet voor "
                f"{kind}; haal het weg",
            )

    def check_scale(self, kind: str, scale: Mapping[str, Any] | None) -> None:
        if scale is None:
            return
        if kind == "grades":
            if "labels" not in scale:
                self.add(
                    "/ballot/scale/labels",
                    "missing_field",
                    "a grades ballot needs the labels of its scale, from worst to best",
                    "een stembiljet met oordelen heeft de labels van de schaal nodig, van "
                    "slechtst naar best",
                )
            for name in ("min", "max"):
                if name in scale:
                    self.add(
                        f"/ballot/scale/{name}",
                        "not_for_format",
                        f"a grades scale is given by its labels; remove {name}",
                        f"een schaal met oordelen wordt gegeven door de labels; haal {name} weg",
                    )
        if kind == "scores":
            if "labels" in scale:
                self.add(
                    "/ballot/scale/labels",
                    "not_for_format",
                    "a scores scale is given by min and max; use the grades format for labels",
                    "een scoreschaal wordt gegeven door min en max; gebruik de vorm grades "
                    "voor labels",
                )
            for name in ("min", "max"):
                if name not in scale:
                    self.add(
                        f"/ballot/scale/{name}",
                        "missing_field",
                        f"a scores scale needs {name}",
                        f"een scoreschaal heeft {name} nodig",
                    )
            if "min" in scale and "max" in scale and scale["min"] >= scale["max"]:
                self.add(
                    "/ballot/scale/max",
                    "max_below_min",
                    f"the highest score ({scale['max']}) must be above the lowest ({scale['min']})",
                    f"de hoogste score ({scale['max']}) moet boven de laagste ({scale['min']}) "
                    "liggen",
                )

    def check_allocation(self) -> None:
        allocation = self.doc.get("allocation")
        if allocation is None:
            return
        rule = allocation["rule"]
        if "satisfaction" in allocation and rule not in SATISFACTION_RULES:
            self.add(
                "/allocation/satisfaction",
                "not_for_rule",
                f"satisfaction applies only to {' and '.join(SATISFACTION_RULES)}, not to "
                f"{rule}; remove it",
                f"satisfaction geldt alleen voor {' en '.join(SATISFACTION_RULES)}, niet voor "
                f"{rule}; haal het weg",
            )
        if (
            allocation.get("satisfaction") == "points"
            and self.doc["ballot"]["format"] not in POINTS_FORMATS
        ):
            self.add(
                "/allocation/satisfaction",
                "points_without_points",
                f"points satisfaction needs a ballot that gives points "
                f"({', '.join(POINTS_FORMATS)}), not {self.doc['ballot']['format']}",
                f"tevredenheid naar punten vraagt een stembiljet met punten "
                f"({', '.join(POINTS_FORMATS)}), niet {self.doc['ballot']['format']}",
            )
        if allocation.get("completion", "none") != "none" and rule != "mes":
            self.add(
                "/allocation/completion",
                "not_for_rule",
                f"completion applies only to mes, not to {rule}; remove it",
                f"completion geldt alleen voor mes, niet voor {rule}; haal het weg",
            )
        # The proportional rules fund by shares of the voters, not by a support threshold or a
        # spending cap: the engine has no such options for them, so a frame naming them would
        # fail only at the close.
        if rule in ("mes", "phragmen"):
            for name in ("min_support", "category_caps_cents"):
                if allocation.get(name):
                    self.add(
                        f"/allocation/{name}",
                        "not_for_rule",
                        f"{name} applies to the greedy rules and max-welfare, not to {rule}; "
                        "remove it or choose another rule",
                        f"{name} geldt voor de greedy-regels en max-welfare, niet voor {rule}; "
                        "haal het weg of kies een andere regel",
                    )
        categories = set(self.doc.get("proposals", {}).get("categories", []))
        for category in sorted(allocation.get("category_caps_cents", {})):
            if category not in categories:
                self.add(
                    _pointer(["allocation", "category_caps_cents", category]),
                    "unknown_category",
                    f"{_quote(category)} is not one of proposals.categories; add it there or "
                    "correct the name",
                    f"{_quote(category)} staat niet in proposals.categories; voeg het daar toe "
                    "of verbeter de naam",
                )
        weights = allocation.get("channel_weights") or {}
        channels = self.doc["ballot"]["channels"]
        for channel in sorted(weights):
            if channel not in channels:
                self.add(
                    f"/allocation/channel_weights/{channel}",
                    "unknown_channel",
                    f"ballots are not cast {channel} (ballot.channels), so they cannot be weighted",
                    f"er wordt niet {'op papier' if channel == 'paper' else 'online'} gestemd "
                    "(ballot.channels), dus dat kanaal kan geen gewicht krijgen",
                )

    def check_tally(self) -> None:
        tally = self.doc.get("tally")
        if tally is None:
            return
        kind = self.doc["ballot"]["format"]
        method = tally["method"]
        if kind not in TALLY_FORMATS[method]:
            self.add(
                "/tally/method",
                "method_not_for_format",
                f"{method} cannot count {kind} ballots; it needs "
                f"{' or '.join(TALLY_FORMATS[method])} ballots",
                f"{method} kan geen stembiljetten van de vorm {kind} tellen; het vraagt "
                f"{' of '.join(TALLY_FORMATS[method])}",
            )
        if "unranked_below_ranked" in tally and kind != "ranking":
            self.add(
                "/tally/unranked_below_ranked",
                "not_for_format",
                f"unranked_below_ranked applies only to ranking ballots, not to {kind}",
                f"unranked_below_ranked geldt alleen voor rangschikkingen, niet voor {kind}",
            )

    def check_tie_break(self) -> None:
        order = list(self.doc["tie_break"])
        if order[-1] != "lottery":
            self.add(
                f"/tie_break/{len(order) - 1}",
                "tie_break_without_lottery",
                'the tie-break must end in "lottery", so that every tie is decided by a '
                "lottery whose seed is committed before voting opens",
                'de volgorde bij gelijke stand moet eindigen met "lottery", zodat elke gelijke '
                "stand wordt beslist door loting met een vooraf vastgelegde seed",
            )
        if "id" in order and order.index("id") < len(order) - 1:
            self.add(
                f"/tie_break/{order.index('id')}",
                "lottery_unreachable",
                '"id" settles every remaining tie by project number, so the lottery after it '
                'would never be drawn; remove "id"',
                '"id" beslist elke resterende gelijke stand op projectnummer, zodat de loting '
                'daarna nooit plaatsvindt; haal "id" weg',
            )
        if not self.is_budget:
            # The tally method itself orders options by their support, and options have no
            # cost or number: on a question only the lottery is left to break a tie.
            for index, key in enumerate(order):
                if key in ("lower-cost", "higher-cost"):
                    self.add(
                        f"/tie_break/{index}",
                        "not_for_instrument",
                        f"{key} compares project costs; the options of a preferendum or poll "
                        'have none: use only "lottery"',
                        f"{key} vergelijkt projectkosten; de opties van een preferendum of "
                        'peiling hebben die niet: gebruik alleen "lottery"',
                    )
                elif key in ("more-support", "less-support"):
                    self.add(
                        f"/tie_break/{index}",
                        "not_for_instrument",
                        f"{key} would repeat what the tally method already did: options tie "
                        'on their support; use only "lottery"',
                        f"{key} zou herhalen wat de telmethode al deed: opties staan gelijk op "
                        'hun steun; gebruik alleen "lottery"',
                    )

    def check_round_bounds(self) -> None:
        bounds = self.doc.get("round_bounds")
        if bounds is None:
            return
        budget = bounds.get("budget_cents_per_area")
        if budget is not None:
            if not self.is_budget:
                self.add(
                    "/round_bounds/budget_cents_per_area",
                    "not_for_instrument",
                    "a preferendum or poll has no budget: remove budget_cents_per_area",
                    "een preferendum of peiling heeft geen budget: haal budget_cents_per_area weg",
                )
            elif budget["min"] > budget["max"]:
                self.add(
                    "/round_bounds/budget_cents_per_area/max",
                    "max_below_min",
                    f"the highest budget ({_eur(budget['max'], 'en')}) is below the lowest "
                    f"({_eur(budget['min'], 'en')})",
                    f"het hoogste budget ({_eur(budget['max'], 'nl')}) ligt onder het laagste "
                    f"({_eur(budget['min'], 'nl')})",
                )
        phases = self.doc["phases"]
        for phase, days in sorted(bounds.get("phase_days", {}).items()):
            if phase not in phases:
                self.add(
                    f"/round_bounds/phase_days/{phase}",
                    "phase_not_used",
                    f"the rule set has no {PHASE_NAMES_EN[phase]} (see phases); remove its "
                    "bounds or add the phase",
                    f"het kader kent geen {PHASE_NAMES_NL[phase]} (zie phases); haal de grenzen "
                    "weg of voeg de fase toe",
                )
            if "min" in days and "max" in days and days["min"] > days["max"]:
                self.add(
                    f"/round_bounds/phase_days/{phase}/max",
                    "max_below_min",
                    f"the longest {PHASE_NAMES_EN[phase]} ({days['max']} days) is shorter than "
                    f"the shortest ({days['min']} days)",
                    f"de langste {PHASE_NAMES_NL[phase]} ({days['max']} dagen) is korter dan de "
                    f"kortste ({days['min']} dagen)",
                )
        eligible = self.doc["eligibility"]["areas"]
        for index, area in enumerate(bounds.get("allowed_areas", [])):
            if not any(area_within(area, outer) for outer in eligible):
                self.add(
                    f"/round_bounds/allowed_areas/{index}",
                    "area_outside_eligibility",
                    f"{area} lies outside the eligibility areas ({', '.join(eligible)})",
                    f"{area} ligt buiten de gebieden van eligibility.areas ({', '.join(eligible)})",
                )
        methods = bounds.get("allowed_methods")
        if methods is None:
            return
        if self.is_budget:
            self.add(
                "/round_bounds/allowed_methods",
                "not_for_instrument",
                "a participatory budget has no questions to tally: remove allowed_methods",
                "een participatieve begroting heeft geen vragen om te tellen: "
                "haal allowed_methods weg",
            )
            return
        kind = self.doc["ballot"]["format"]
        for index, method in enumerate(methods):
            if kind not in TALLY_FORMATS[method]:
                self.add(
                    f"/round_bounds/allowed_methods/{index}",
                    "method_not_for_format",
                    f"{method} cannot count {kind} ballots",
                    f"{method} kan geen stembiljetten van de vorm {kind} tellen",
                )
        default = self.doc.get("tally", {}).get("method")
        if default is not None and default not in methods:
            self.add(
                "/round_bounds/allowed_methods",
                "default_method_not_allowed",
                f"the default method tally.method ({default}) must be one of the allowed methods",
                f"de standaardmethode tally.method ({default}) moet bij de toegestane methoden "
                "staan",
            )


def area_within(area: str, outer: str) -> bool:
    """Whether CBS area ``area`` lies inside (or is) CBS area ``outer``.

    CBS codes nest by their digits: WK026801 lies in GM0268, BU02680100 in WK026801. Codes
    that are not CBS codes (a token's area claim comes from outside) match only themselves,
    so no caller has to guard against them.
    """
    if not (_CBS_AREA.fullmatch(area) and _CBS_AREA.fullmatch(outer)):
        return area == outer
    return area[2:].startswith(outer[2:]) and _AREA_LEVEL[area[:2]] >= _AREA_LEVEL[outer[:2]]


_CBS_AREA: Final = re.compile(r"GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8}")
_AREA_LEVEL: Final[Mapping[str, int]] = {"GM": 0, "WK": 1, "BU": 2}


def validate_ruleset(document: Any) -> list[RuleSetProblem]:
    """Every problem with a rule-set document; an empty list means it is valid."""
    if not isinstance(document, Mapping):
        return [
            RuleSetProblem(
                "/",
                "schema_type",
                "a rule set must be a JSON object with named fields",
                "een kader moet een JSON-object met benoemde velden zijn",
            )
        ]
    errors = sorted(
        _schema_validator().iter_errors(document),
        key=lambda error: (_pointer(list(error.absolute_path)), str(error.validator)),
    )
    problems = [problem for error in errors for problem in _schema_problems(error)]
    problems.extend(_unsafe_numbers(document, []))
    if problems:
        return _sorted_unique(problems)
    return _sorted_unique(_Checker(document).run())


# RFC 8785 writes numbers as IEEE doubles: beyond 2**53 two different integers would share
# one canonical form (and one version id), and the canonicaliser refuses them.
SAFE_INTEGER: Final = 2**53 - 1


def _unsafe_numbers(node: Any, parts: list[str | int]) -> Iterator[RuleSetProblem]:
    if isinstance(node, Mapping):
        for key, child in node.items():
            yield from _unsafe_numbers(child, [*parts, str(key)])
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _unsafe_numbers(child, [*parts, index])
    elif (
        isinstance(node, int | float)
        and not isinstance(node, bool)
        and (node != node or abs(node) > SAFE_INTEGER)  # NaN, infinity, or too large
    ):
        yield RuleSetProblem(
            _pointer(parts) or "/",
            "number_out_of_range",
            f"{node!r} is too large to be stored exactly; use a number of at most {SAFE_INTEGER:,}",
            f"{node!r} is te groot om exact te bewaren; gebruik een getal van hoogstens "
            f"{SAFE_INTEGER:,}".replace(",", "."),
        )


def _sorted_unique(problems: Sequence[RuleSetProblem]) -> list[RuleSetProblem]:
    # Deterministic order for clerks and tests; the same message twice helps nobody.
    seen: set[RuleSetProblem] = set()
    unique = []
    for problem in sorted(problems, key=lambda p: (p.path, p.code, p.message_en)):
        if problem not in seen:
            seen.add(problem)
            unique.append(problem)
    return unique


# --------------------------------------------------------------------------- typed view

T = TypeVar("T")


@dataclass(frozen=True)
class CouncilDecision:
    reference: str
    date: date
    url: str | None
    binding: bool


@dataclass(frozen=True)
class Eligibility:
    min_age: int
    max_age: int | None
    areas: tuple[str, ...]
    one_ballot_per: str
    residents_only: bool

    def admits_age(self, age: int) -> bool:
        """Whether a resident of this age on the closing day may take part."""
        return age >= self.min_age and (self.max_age is None or age <= self.max_age)

    def covers_area(self, area: str) -> bool:
        return any(area_within(area, outer) for outer in self.areas)


@dataclass(frozen=True)
class ProposalRules:
    who_may_submit: str
    cost_min_cents: int
    cost_max_cents: int
    categories: tuple[str, ...]
    per_resident: int | None
    review: bool
    supports_needed: int
    supports_per_resident: int | None

    def admits_cost(self, cost_cents: int) -> bool:
        return self.cost_min_cents <= cost_cents <= self.cost_max_cents


@dataclass(frozen=True)
class Scale:
    """A grades scale (labels, worst first) or a scores scale (min..max)."""

    labels: tuple[str, ...]
    min: int
    max: int
    blank_allowed: bool

    @property
    def is_labelled(self) -> bool:
        return bool(self.labels)


@dataclass(frozen=True)
class BallotRules:
    format: str
    min_selections: int
    max_selections: int | None
    max_points: int | None
    max_points_per_option: int | None
    within_budget: bool
    allow_abstain: bool
    revote: str
    channels: tuple[str, ...]
    paper_online_exclusive: bool
    scale: Scale | None
    ranking_complete: bool
    ranking_ties_allowed: bool
    max_questions: int | None

    @property
    def revote_allowed(self) -> bool:
        return self.revote == "last_counts"


@dataclass(frozen=True)
class MinSupport:
    """Exactly one of the two is set."""

    votes: int | None
    percent_of_voters: int | None


@dataclass(frozen=True)
class AllocationRules:
    rule: str
    satisfaction: str | None
    completion: str
    min_support: MinSupport | None
    category_caps_cents: tuple[tuple[str, int], ...]
    channel_weights: tuple[tuple[str, int], ...]

    def category_cap_cents(self, category: str) -> int | None:
        return dict(self.category_caps_cents).get(category)


@dataclass(frozen=True)
class Quorum:
    min_turnout: int | None
    min_graders: int | None


@dataclass(frozen=True)
class TallyRules:
    method: str
    unranked_below_ranked: bool
    quorum: Quorum


@dataclass(frozen=True)
class PublicationRules:
    cast_vote_record: bool
    min_group_size: int
    auditor_sees_before_publication: bool


@dataclass(frozen=True)
class AdministrationRules:
    """Who may act on a round: ``any-official`` (the default) or only its ``round-team``."""

    officials: str

    @property
    def round_team_only(self) -> bool:
        return self.officials == ROUND_TEAM


@dataclass(frozen=True)
class Bounds:
    """An inclusive range; None on a side means unbounded there."""

    min: int | None
    max: int | None


@dataclass(frozen=True)
class RoundBounds:
    budget_cents_per_area: Bounds | None
    phase_days: tuple[tuple[str, Bounds], ...]
    allowed_areas: tuple[str, ...] | None
    allowed_methods: tuple[str, ...] | None

    def phase_bounds(self, phase: str) -> Bounds | None:
        return dict(self.phase_days).get(phase)


@dataclass(frozen=True)
class RuleSet:
    """A valid rule-set version, read-only. Build it with ``load_ruleset``."""

    id: str
    canonical: bytes
    schema_version: int
    instrument: str
    title: str
    description: str | None
    council_decision: CouncilDecision
    eligibility: Eligibility
    phases: tuple[str, ...]
    proposals: ProposalRules | None
    ballot: BallotRules
    allocation: AllocationRules | None
    tally: TallyRules | None
    tie_break: tuple[str, ...]
    publication: PublicationRules
    round_bounds: RoundBounds
    administration: AdministrationRules

    @property
    def is_budget(self) -> bool:
        return self.instrument in BUDGET_INSTRUMENTS

    @property
    def is_questions(self) -> bool:
        """Preferenda and polls: questions with options, tallied by a method."""
        return self.instrument in QUESTION_INSTRUMENTS

    @property
    def ballot_format(self) -> str:
        return self.ballot.format

    @property
    def reference(self) -> str:
        return self.council_decision.reference

    def has_phase(self, phase: str) -> bool:
        """Optional phases come from the document; draft, closed and published always apply."""
        return phase in self.phases or phase in ("draft", "closed", "published")

    @property
    def allowed_methods(self) -> tuple[str, ...]:
        """Tally methods an official may choose for a question (empty for budgets)."""
        if self.tally is None:
            return ()
        if self.round_bounds.allowed_methods is not None:
            return self.round_bounds.allowed_methods
        return (self.tally.method,)

    def document(self) -> dict[str, Any]:
        """A fresh copy of the document this version was built from."""
        loaded: dict[str, Any] = json.loads(self.canonical)
        return loaded


def load_ruleset(document: Any) -> RuleSet:
    """The typed view of a valid document; raises ``RuleSetInvalid`` listing every problem."""
    problems = validate_ruleset(document)
    if problems:
        raise RuleSetInvalid(problems)
    canonical = canonical_json(document)
    # Read the view back from the canonical bytes: a detached copy in which numbers the schema
    # accepted as integers (16.0) are ints, so nothing downstream ever compares floats.
    doc: Mapping[str, Any] = json.loads(canonical)
    return RuleSet(
        id=hashlib.sha256(canonical).hexdigest(),
        canonical=canonical,
        schema_version=int(doc["schema_version"]),
        instrument=str(doc["instrument"]),
        title=str(doc["title"]),
        description=doc.get("description"),
        council_decision=_decision(doc["council_decision"]),
        eligibility=_eligibility(doc["eligibility"]),
        phases=tuple(doc["phases"]),
        proposals=_optional(doc.get("proposals"), _proposals),
        ballot=_ballot(doc["ballot"]),
        allocation=_optional(doc.get("allocation"), _allocation),
        tally=_optional(doc.get("tally"), _tally),
        tie_break=tuple(doc["tie_break"]),
        publication=_publication(doc["publication"]),
        round_bounds=_round_bounds(doc.get("round_bounds", {})),
        administration=_administration(doc.get("administration", {})),
    )


def _optional(part: Mapping[str, Any] | None, build: Callable[[Mapping[str, Any]], T]) -> T | None:
    return None if part is None else build(part)


def _decision(part: Mapping[str, Any]) -> CouncilDecision:
    return CouncilDecision(
        reference=part["reference"],
        date=date.fromisoformat(part["date"]),
        url=part.get("url"),
        binding=part["binding"],
    )


def _eligibility(part: Mapping[str, Any]) -> Eligibility:
    return Eligibility(
        min_age=part["min_age"],
        max_age=part.get("max_age"),
        areas=tuple(part["areas"]),
        one_ballot_per=part["one_ballot_per"],
        residents_only=part.get("residents_only", True),
    )


def _proposals(part: Mapping[str, Any]) -> ProposalRules:
    return ProposalRules(
        who_may_submit=part["who_may_submit"],
        cost_min_cents=part["cost_min_cents"],
        cost_max_cents=part["cost_max_cents"],
        categories=tuple(part.get("categories", ())),
        per_resident=part.get("per_resident"),
        review=part["review"],
        supports_needed=part.get("supports_needed", 0),
        supports_per_resident=part.get("supports_per_resident"),
    )


def _ballot(part: Mapping[str, Any]) -> BallotRules:
    scale = part.get("scale")
    ranking = part.get("ranking", {})
    return BallotRules(
        format=part["format"],
        min_selections=part.get("min_selections", 1),
        max_selections=part.get("max_selections"),
        max_points=part.get("max_points"),
        max_points_per_option=part.get("max_points_per_option"),
        within_budget=part.get("within_budget", part["format"] == "knapsack"),
        allow_abstain=part.get("allow_abstain", False),
        revote=part["revote"],
        channels=tuple(part["channels"]),
        paper_online_exclusive=part.get("paper_online_exclusive", False),
        scale=None if scale is None else _scale(scale),
        ranking_complete=ranking.get("complete", False),
        ranking_ties_allowed=ranking.get("ties_allowed", False),
        max_questions=part.get("max_questions"),
    )


def _scale(part: Mapping[str, Any]) -> Scale:
    labels = tuple(part.get("labels", ()))
    if labels:
        return Scale(labels, 0, len(labels) - 1, part["blank_allowed"])
    return Scale((), part["min"], part["max"], part["blank_allowed"])


def _allocation(part: Mapping[str, Any]) -> AllocationRules:
    rule = part["rule"]
    support = part.get("min_support")
    return AllocationRules(
        rule=rule,
        satisfaction=part.get("satisfaction", DEFAULT_SATISFACTION.get(rule)),
        completion=part.get("completion", "none"),
        min_support=None
        if support is None
        else MinSupport(support.get("votes"), support.get("percent_of_voters")),
        category_caps_cents=tuple(sorted(part.get("category_caps_cents", {}).items())),
        channel_weights=tuple(sorted((part.get("channel_weights") or {}).items())),
    )


def _tally(part: Mapping[str, Any]) -> TallyRules:
    quorum = part.get("quorum", {})
    return TallyRules(
        method=part["method"],
        unranked_below_ranked=part.get("unranked_below_ranked", True),
        quorum=Quorum(quorum.get("min_turnout"), quorum.get("min_graders")),
    )


def _publication(part: Mapping[str, Any]) -> PublicationRules:
    return PublicationRules(
        cast_vote_record=part["cast_vote_record"],
        min_group_size=part["min_group_size"],
        auditor_sees_before_publication=part.get("auditor_sees_before_publication", False),
    )


def _administration(part: Mapping[str, Any]) -> AdministrationRules:
    # The default is written nowhere in the document: leaving the field out keeps a version's
    # content, and so its id, exactly what it was before the field existed.
    return AdministrationRules(officials=part.get("officials", ANY_OFFICIAL))


def _round_bounds(part: Mapping[str, Any]) -> RoundBounds:
    budget = part.get("budget_cents_per_area")
    methods = part.get("allowed_methods")
    areas = part.get("allowed_areas")
    return RoundBounds(
        budget_cents_per_area=None if budget is None else Bounds(budget["min"], budget["max"]),
        phase_days=tuple(
            (phase, Bounds(days.get("min"), days.get("max")))
            for phase, days in sorted(part.get("phase_days", {}).items())
        ),
        allowed_areas=None if areas is None else tuple(areas),
        allowed_methods=None if methods is None else tuple(methods),
    )


# --------------------------------------------------------------------------- a round in bounds


@dataclass(frozen=True)
class PhaseWindow:
    """When a phase of a round is scheduled; either end may still be open."""

    start: datetime | None
    end: datetime | None


def check_round_against_bounds(
    ruleset: RuleSet,
    areas: Sequence[str],
    budgets: Mapping[str, int] | None = None,
    phase_schedule: Mapping[str, PhaseWindow | tuple[datetime | None, datetime | None]]
    | None = None,
    question_methods: Mapping[str, str] | None = None,
) -> list[RuleSetProblem]:
    """What an official set for a round that leaves the council's frame.

    ``areas`` are the round's CBS codes, ``budgets`` cents per area (budget instruments),
    ``phase_schedule`` the scheduled window of each phase, ``question_methods`` the tally method
    of each question (preferenda and polls). Each problem's path points into those settings and
    its message cites the decision and the rule it breaks.
    """
    check = _RoundCheck(ruleset)
    check.areas(areas)
    check.budgets(areas, budgets or {})
    schedule = {
        phase: window if isinstance(window, PhaseWindow) else PhaseWindow(*window)
        for phase, window in (phase_schedule or {}).items()
    }
    check.schedule(schedule)
    check.questions(question_methods or {})
    return check.problems


def _days(length: timedelta) -> tuple[str, str]:
    days, seconds = length.days, length.seconds
    hours = seconds // 3600
    en = f"{days} day{'s' if days != 1 else ''}"
    nl = f"{days} dag{'en' if days != 1 else ''}"
    if hours:
        en += f" and {hours} hour{'s' if hours != 1 else ''}"
        nl += f" en {hours} uur"
    elif seconds:
        en += " and less than an hour"
        nl += " en minder dan een uur"
    return en, nl


class _RoundCheck:
    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.problems: list[RuleSetProblem] = []

    def add(self, path: str, code: str, rule: str, en: str, nl: str) -> None:
        reference = self.ruleset.council_decision.reference
        self.problems.append(
            RuleSetProblem(
                path,
                code,
                en.replace("{cite}", f"the council's rule set ({reference}, {rule})"),
                nl.replace("{cite}", f"het kader van de raad ({reference}, {rule})"),
                rule,
            )
        )

    def areas(self, areas: Sequence[str]) -> None:
        if not areas:
            self.add(
                "/areas",
                "no_areas",
                "eligibility.areas",
                "the round has no areas; {cite} needs at least one",
                "de ronde heeft geen gebieden; {cite} vraagt er minstens één",
            )
        bounds = self.ruleset.round_bounds.allowed_areas
        seen: set[str] = set()
        for index, area in enumerate(areas):
            if area in seen:
                self.add(
                    f"/areas/{index}",
                    "duplicate_area",
                    "eligibility.areas",
                    f"the round lists {area} twice; list each area once",
                    f"de ronde noemt {area} twee keer; noem elk gebied één keer",
                )
            seen.add(area)
            if bounds is not None:
                if not any(area_within(area, allowed) for allowed in bounds):
                    self.add(
                        f"/areas/{index}",
                        "area_not_allowed",
                        "round_bounds.allowed_areas",
                        f"the area {area} is not allowed; {{cite}} allows {', '.join(bounds)}",
                        f"het gebied {area} is niet toegestaan; {{cite}} staat "
                        f"{', '.join(bounds)} toe",
                    )
            elif not self.ruleset.eligibility.covers_area(area):
                areas_text = ", ".join(self.ruleset.eligibility.areas)
                self.add(
                    f"/areas/{index}",
                    "area_not_allowed",
                    "eligibility.areas",
                    f"the area {area} lies outside {{cite}}, which covers {areas_text}",
                    f"het gebied {area} ligt buiten {{cite}}, dat {areas_text} omvat",
                )

    def budgets(self, areas: Sequence[str], budgets: Mapping[str, int]) -> None:
        from stemmen.ballots.money import format_eur  # here: stemmen.ballots imports this module

        if not self.ruleset.is_budget:
            for area in sorted(budgets):
                self.add(
                    f"/budgets/{area}",
                    "budget_not_for_instrument",
                    "instrument",
                    f"{self.ruleset.instrument} has no budget; {{cite}} is not a participatory "
                    "budget",
                    f"{self.ruleset.instrument} heeft geen budget; {{cite}} is geen "
                    "participatieve begroting",
                )
            return
        for area in sorted(set(areas) - set(budgets)):
            self.add(
                f"/budgets/{area}",
                "budget_missing",
                "instrument",
                f"the area {area} has no budget; every area of a participatory budget needs one",
                f"het gebied {area} heeft geen budget; elk gebied van een participatieve "
                "begroting heeft er een nodig",
            )
        bounds = self.ruleset.round_bounds.budget_cents_per_area
        rule = "round_bounds.budget_cents_per_area"
        for area in sorted(budgets):
            cents = budgets[area]
            path = f"/budgets/{area}"
            if area not in areas:
                self.add(
                    path,
                    "budget_for_unknown_area",
                    "eligibility.areas",
                    f"there is a budget for {area}, which is not one of the round's areas",
                    f"er is een budget voor {area}, dat geen gebied van de ronde is",
                )
            if cents <= 0:
                self.add(
                    path,
                    "budget_not_positive",
                    rule,
                    f"the budget of {area} must be more than {format_eur(0, 'en')}",
                    f"het budget van {area} moet meer dan {format_eur(0, 'nl')} zijn",
                )
            if bounds is None:
                continue
            if bounds.min is not None and cents < bounds.min:
                self.add(
                    path,
                    "budget_below_bounds",
                    f"{rule}.min",
                    f"the budget of {area} is {format_eur(cents, 'en')}; {{cite}} requires at "
                    f"least {format_eur(bounds.min, 'en')}",
                    f"het budget van {area} is {format_eur(cents, 'nl')}; {{cite}} vraagt "
                    f"minstens {format_eur(bounds.min, 'nl')}",
                )
            if bounds.max is not None and cents > bounds.max:
                self.add(
                    path,
                    "budget_above_bounds",
                    f"{rule}.max",
                    f"the budget of {area} is {format_eur(cents, 'en')}; {{cite}} allows at "
                    f"most {format_eur(bounds.max, 'en')}",
                    f"het budget van {area} is {format_eur(cents, 'nl')}; {{cite}} staat "
                    f"hoogstens {format_eur(bounds.max, 'nl')} toe",
                )

    def schedule(self, schedule: Mapping[str, PhaseWindow]) -> None:
        previous: tuple[str, datetime] | None = None
        for phase in sorted(schedule, key=_phase_rank):
            window = schedule[phase]
            path = f"/phases/{phase}"
            name_en = PHASE_NAMES_EN.get(phase, f"{phase} phase")
            name_nl = PHASE_NAMES_NL.get(phase, f"fase {phase}")
            if phase not in self.ruleset.phases:
                self.add(
                    path,
                    "phase_not_in_ruleset",
                    "phases",
                    f"the round schedules a {name_en}, which {{cite}} does not have",
                    f"de ronde plant een {name_nl}, die {{cite}} niet kent",
                )
                continue
            if window.start is not None and previous is not None and window.start < previous[1]:
                self.add(
                    path,
                    "phases_overlap",
                    "phases",
                    f"the {name_en} starts before the {PHASE_NAMES_EN[previous[0]]} ends; "
                    "phases run one after the other",
                    f"de {name_nl} begint voordat de {PHASE_NAMES_NL[previous[0]]} eindigt; "
                    "fasen volgen elkaar op",
                )
            if window.end is not None:
                previous = (phase, window.end)
            if window.start is None or window.end is None:
                continue
            if window.end <= window.start:
                self.add(
                    path,
                    "phase_ends_before_start",
                    "phases",
                    f"the {name_en} ends before it starts; set its end after its start",
                    f"de {name_nl} eindigt voordat die begint; zet het einde na het begin",
                )
                continue
            self._phase_length(phase, path, window.end - window.start)

    def _phase_length(self, phase: str, path: str, length: timedelta) -> None:
        bounds = self.ruleset.round_bounds.phase_bounds(phase)
        if bounds is None:
            return
        rule = f"round_bounds.phase_days.{phase}"
        lasts_en, lasts_nl = _days(length)
        name_en, name_nl = PHASE_NAMES_EN[phase], PHASE_NAMES_NL[phase]
        if bounds.min is not None and length < timedelta(days=bounds.min):
            self.add(
                path,
                "phase_too_short",
                f"{rule}.min",
                f"the {name_en} lasts {lasts_en}; {{cite}} requires at least {bounds.min}",
                f"de {name_nl} duurt {lasts_nl}; {{cite}} vraagt minstens {bounds.min}",
            )
        if bounds.max is not None and length > timedelta(days=bounds.max):
            self.add(
                path,
                "phase_too_long",
                f"{rule}.max",
                f"the {name_en} lasts {lasts_en}; {{cite}} allows at most {bounds.max}",
                f"de {name_nl} duurt {lasts_nl}; {{cite}} staat hoogstens {bounds.max} toe",
            )

    def questions(self, methods: Mapping[str, str]) -> None:
        if self.ruleset.is_budget:
            for question in sorted(methods):
                self.add(
                    _pointer(["questions", question, "method"]),
                    "questions_not_for_instrument",
                    "instrument",
                    f"{self.ruleset.instrument} asks no questions; {{cite}} is a participatory "
                    "budget",
                    f"{self.ruleset.instrument} stelt geen vragen; {{cite}} is een "
                    "participatieve begroting",
                )
            return
        limit = self.ruleset.ballot.max_questions
        if limit is not None and len(methods) > limit:
            self.add(
                "/questions",
                "too_many_questions",
                "ballot.max_questions",
                f"the round asks {len(methods)} questions; {{cite}} allows at most {limit}",
                f"de ronde stelt {len(methods)} vragen; {{cite}} staat hoogstens {limit} toe",
            )
        allowed = self.ruleset.allowed_methods
        rule = (
            "round_bounds.allowed_methods"
            if self.ruleset.round_bounds.allowed_methods is not None
            else "tally.method"
        )
        for question in sorted(methods):
            method = methods[question]
            if method not in allowed:
                self.add(
                    _pointer(["questions", question, "method"]),
                    "method_not_allowed",
                    rule,
                    f"question {question} uses {method}; {{cite}} allows {', '.join(allowed)}",
                    f"vraag {question} gebruikt {method}; {{cite}} staat {', '.join(allowed)} toe",
                )


def _phase_rank(phase: str) -> tuple[int, str]:
    return (PHASE_ORDER.index(phase) if phase in PHASE_ORDER else len(PHASE_ORDER), phase)
