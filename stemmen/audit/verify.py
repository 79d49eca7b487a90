"""Verify a published bundle with no server: chain, rule set, phases, seed, ballots, result.

:func:`verify_bundle` runs every check of ``docs/verification.md`` and returns a
:class:`VerificationReport`: one verdict line per check (``OK  chain: 412 entries, head
3f2a...``) and every discrepancy with where it is. It never stops at the first problem, so one
run tells an auditor everything that is wrong. :func:`verify_receipt` checks one resident's
receipt code against the bundle.

The result is recomputed by calling one function per family, :func:`recompute_budget_area`
and :func:`recompute_question`, which hand the published cast-vote record to the pure engines
(``stemmen.budget`` and ``stemmen.tally``) under the pinned rule set and the revealed seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from stemmen.audit.bundle import (
    BUDGET,
    BUNDLE_FORMAT,
    NONCE_COLUMN,
    PHASES,
    family_of,
    preferendum_tally_record,
    publishable_allocation,
    results_hash,
    round_frame_hash,
)
from stemmen.audit.canonical import CanonicalJSONError, canonical_bytes, canonical_hash
from stemmen.audit.chain import (
    BALLOT_ACCEPTED,
    BALLOT_SUPERSEDED,
    PAPER_BATCH_CONFIRMED,
    RESULT_PUBLISHED,
    ROUND_CHANGED,
    ROUND_CLOSED,
    ROUND_CREATED,
    ROUND_PHASE_CHANGED,
    SEED_COMMITTED,
    SEED_REVEALED,
    Finding,
    LogEntry,
    LogFormatError,
    verify_chain,
)
from stemmen.audit.merkle import (
    MerkleError,
    inclusion_proof,
    merkle_root,
    receipt_leaves,
    verify_inclusion,
)
from stemmen.audit.receipts import (
    NONCE_BYTES,
    ReceiptCodeError,
    budget_ballot_record,
    check_seed,
    compute_receipt_hash,
    preferendum_ballot_record,
    receipt_hash,
)

__all__ = [
    "CheckLine",
    "ReceiptReport",
    "VerificationReport",
    "recompute_budget_area",
    "recompute_preferendum",
    "recompute_question",
    "verify_bundle",
    "verify_receipt",
]

# Events about ballots: none may follow round.closed, which seals the ballot tree.
_BALLOT_EVENTS = frozenset({BALLOT_ACCEPTED, BALLOT_SUPERSEDED, PAPER_BATCH_CONFIRMED})
# Phases in which an event may be logged; anything else is out of order.
_EVENT_PHASES = {
    BALLOT_ACCEPTED: {"voting"},
    BALLOT_SUPERSEDED: {"voting"},
    PAPER_BATCH_CONFIRMED: {"voting", "closed"},
    ROUND_CLOSED: {"closed"},
    SEED_REVEALED: {"closed", "published"},
    RESULT_PUBLISHED: {"closed", "published"},
}


@dataclass(frozen=True)
class CheckLine:
    """One verdict line: ``OK``, ``FAIL`` or ``SKIP`` (could not run: a part is missing)."""

    status: str
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail}"


@dataclass(frozen=True)
class VerificationReport:
    lines: tuple[CheckLine, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings and all(line.status == "OK" for line in self.lines)

    def render(self) -> str:
        text = [str(line) for line in self.lines]
        if self.findings:
            text.append("")
            text.append(f"{len(self.findings)} discrepancies:")
            text.extend(f"  - {finding}" for finding in self.findings)
        text.append("")
        text.append(
            "VERIFIED: every check passed"
            if self.ok
            else "NOT VERIFIED: see the discrepancies above"
        )
        return "\n".join(text)


@dataclass
class _State:
    """What the checks learn from the bundle and hand on to later checks."""

    round_id: str = ""
    family: str = ""
    entries: list[LogEntry] = field(default_factory=list)
    chain_intact: bool = False
    # receipt -> (area code or None, the ballot record the receipt commits to)
    ballots: dict[str, tuple[str | None, dict[str, Any]]] = field(default_factory=dict)
    pabulib_by_area: dict[str, str] = field(default_factory=dict)


class _Verifier:
    def __init__(self, bundle: Mapping[str, Any], expected_heads: Sequence[str]) -> None:
        self.bundle = bundle
        self.expected_heads = list(expected_heads)
        self.lines: list[CheckLine] = []
        self.findings: list[Finding] = []
        self.state = _State()

    def fail(self, check: str, where: str, message: str) -> None:
        self.findings.append(Finding(check, where, message))

    def run(self, name: str, check: Callable[[], str]) -> None:
        before = len(self.findings)
        try:
            detail = check()
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            what = f"missing {error}" if isinstance(error, KeyError) else str(error)
            self.lines.append(CheckLine("SKIP", name, f"could not run: {what}"))
            self.fail(
                "bundle.format", name, f"the bundle part this check reads is malformed: {what}"
            )
            return
        status = "OK" if len(self.findings) == before else "FAIL"
        self.lines.append(CheckLine(status, name, detail))

    # ------------------------------------------------------------------ the checks

    def check_format(self) -> str:
        found = self.bundle.get("format")
        if found != BUNDLE_FORMAT:
            self.fail("bundle.format", "format", f"expected {BUNDLE_FORMAT!r}, found {found!r}")
        round_definition = self.bundle["round"]
        self.state.round_id = str(round_definition["id"])
        self.state.family = family_of(round_definition)
        engine = self.bundle.get("engine", {})
        return (
            f"{found}, round {self.state.round_id} ({round_definition['instrument']}), "
            f"built by {engine.get('name', '?')} {engine.get('version', '?')}"
        )

    def check_chain(self) -> str:
        log = self.bundle["log"]
        entries = []
        for index, raw in enumerate(log["entries"]):
            try:
                entries.append(LogEntry.from_json(raw))
            except LogFormatError as error:
                self.fail("log.format", f"log entry {index + 1}", str(error))
        self.state.entries = entries
        report = verify_chain(entries, self.expected_heads)
        self.findings.extend(report.findings)
        claimed = log.get("head")
        if claimed != report.head:
            self.fail(
                "log.head",
                "log.head",
                f"the bundle names head {str(claimed)[:12]}..., but its last entry hashes to "
                f"{str(report.head)[:12]}...",
            )
        for entry in entries:
            if entry.round_id != self.state.round_id:
                self.fail(
                    "log.round",
                    f"log entry seq {entry.seq}",
                    f"belongs to round {entry.round_id!r}, not {self.state.round_id!r}",
                )
        self.state.chain_intact = report.ok
        return report.summary()

    def _events(self, kind: str) -> list[LogEntry]:
        return [entry for entry in self.state.entries if entry.kind == kind]

    def _opening(self) -> LogEntry | None:
        for entry in self._events(ROUND_PHASE_CHANGED):
            if entry.payload.get("to") == "voting":
                return entry
        return None

    def check_ruleset(self) -> str:
        ruleset = self.bundle["ruleset"]
        computed = canonical_hash(ruleset["document"])
        where = "ruleset"
        if ruleset["hash"] != computed:
            self.fail(
                "ruleset.hash",
                where,
                f"the document hashes to {computed[:12]}..., the bundle says "
                f"{str(ruleset['hash'])[:12]}...: the rule set was changed",
            )
        pinned = self.bundle["round"].get("ruleset_hash")
        if pinned != computed:
            self.fail(
                "ruleset.pinned",
                "round.ruleset_hash",
                f"the round pins {str(pinned)[:12]}..., not this document ({computed[:12]}...)",
            )
        if ruleset["document"].get("instrument") != self.bundle["round"].get("instrument"):
            self.fail("ruleset.instrument", where, "the rule set is for another instrument")
        created = self._events(ROUND_CREATED)
        if len(created) != 1:
            self.fail("ruleset.logged", "log", f"{len(created)} round.created events, expected 1")
        elif created[0].payload.get("ruleset_hash") != computed:
            self.fail(
                "ruleset.logged",
                f"log seq {created[0].seq} (round.created)",
                "the rule-set hash logged when the round was created is not this document's",
            )
        opening = self._opening()
        if opening is None:
            self.fail("ruleset.logged", "log", "no phase change to voting: the round never opened")
            return f"sha256 {computed[:12]}..."
        if self._opening_value(opening, "ruleset_hash") != computed:
            self.fail(
                "ruleset.logged",
                f"log seq {opening.seq} (opening)",
                "the rule-set hash logged when voting opened is not this document's: the rule "
                "set was changed after the opening",
            )
        return (
            f"sha256 {computed[:12]}..., pinned by the round and logged at opening "
            f"(seq {opening.seq})"
        )

    def _opening_value(self, opening: LogEntry, key: str) -> Any:
        """A value logged at the opening: in the phase change, or in the seed commitment the
        same transaction logs right after it."""
        if key in opening.payload:
            return opening.payload[key]
        for entry in self.state.entries:
            if entry.seq == opening.seq + 1 and entry.kind == SEED_COMMITTED:
                return entry.payload.get(key)
        return None

    def check_round(self) -> str:
        computed = round_frame_hash(self.bundle["round"])
        opening = self._opening()
        before = len(self.findings)
        how = f"frame {computed[:12]}... as opened"
        if opening is None:
            self.fail("round.frame", "log", "no opening event to compare the round with")
        elif "round_hash" in opening.payload:
            if opening.payload["round_hash"] != computed:
                self.fail(
                    "round.frame",
                    f"log seq {opening.seq} (opening)",
                    "the round definition (areas, budgets, projects, questions) differs from the "
                    "one logged when voting opened",
                )
        elif self.state.family == BUDGET and "ballot" in opening.payload:
            self._compare_logged_ballot(opening)
            how = "areas, budgets, projects and costs as logged before and at the opening"
        else:
            self.fail(
                "round.frame",
                f"log seq {opening.seq} (opening)",
                "the opening logged no round_hash, so the questions and options cannot be "
                "checked against what voters were shown",
            )
        round_definition = self.bundle["round"]
        if self.state.family == BUDGET:
            parts = [
                f"{area['code']} EUR {Fraction(int(area['budget_cents']), 100)} "
                f"({len(area['projects'])} projects)"
                for area in round_definition["areas"]
            ]
        else:
            parts = [
                f"{question['id']} ({question['method']}, {len(question['options'])} options)"
                for question in round_definition["questions"]
            ]
        if len(self.findings) > before:
            how = f"frame {computed[:12]}... NOT shown to be the one opened"
        return f"{how}: " + "; ".join(parts)

    def _compare_logged_ballot(self, opening: LogEntry) -> None:
        """Without a round hash: the areas and budgets last logged before the opening, and
        the projects and costs the opening logged, must be the bundle's."""
        logged_areas: Any = None
        for entry in self.state.entries:
            if entry.seq >= opening.seq:
                break
            if entry.kind in (ROUND_CREATED, ROUND_CHANGED) and "areas" in entry.payload:
                logged_areas = entry.payload["areas"]
        where = f"log seq {opening.seq} (opening)"
        areas = {str(area["code"]): area for area in self.bundle["round"]["areas"]}
        if logged_areas is None:
            self.fail("round.frame", where, "no areas and budgets were logged before the opening")
        else:
            budgets = {str(a["code"]): a.get("budget_cents") for a in logged_areas}
            published = {code: area.get("budget_cents") for code, area in areas.items()}
            if budgets != published:
                self.fail(
                    "round.frame",
                    "round.areas",
                    f"areas and budgets {published} differ from those logged {budgets}",
                )
        logged = {
            (str(item.get("area")), str(item.get("code") or item.get("proposal"))): item.get(
                "cost_cents"
            )
            for item in opening.payload["ballot"]
        }
        shown = {
            (code, str(project["id"])): project.get("cost_cents")
            for code, area in areas.items()
            for project in area.get("projects", [])
        }
        if logged != shown:
            changed = sorted(
                f"{area}/{project}"
                for area, project in set(logged) ^ set(shown)
                | {key for key in set(logged) & set(shown) if logged[key] != shown[key]}
            )
            self.fail(
                "round.frame",
                where,
                f"projects or costs differ from the ballot logged when voting opened: {changed}",
            )

    @staticmethod
    def _phases_for(entry: LogEntry) -> set[str]:
        # Paper ballots are often entered after the polling stations close, so they may be
        # accepted until the ballots are sealed; online ones only while voting is open.
        if entry.kind == BALLOT_ACCEPTED and entry.payload.get("channel") == "paper":
            return {"voting", "closed"}
        return _EVENT_PHASES[entry.kind]

    def check_phases(self) -> str:
        phase = "draft"
        seen = [phase]
        sealed = False
        ruleset_phases = set(self.bundle["ruleset"]["document"].get("phases", PHASES))
        allowed = {"draft", "closed", "published"} | ruleset_phases
        for entry in self.state.entries:
            where = f"log seq {entry.seq} ({entry.kind})"
            if entry.kind == ROUND_PHASE_CHANGED:
                source, target = entry.payload.get("from"), entry.payload.get("to")
                if source != phase:
                    self.fail("phases.order", where, f"changes from {source!r} while in {phase!r}")
                if target not in PHASES or PHASES.index(target) <= PHASES.index(phase):
                    self.fail("phases.order", where, f"goes back or sideways: {phase} -> {target}")
                elif target not in allowed:
                    self.fail("phases.ruleset", where, f"phase {target!r} is not in the rule set")
                if target in PHASES:
                    phase = str(target)
                    seen.append(phase)
            elif entry.kind == ROUND_CLOSED:
                sealed = True
                if phase != "closed":
                    self.fail("phases.event", where, f"logged in phase {phase!r}")
            elif entry.kind in _BALLOT_EVENTS and sealed:
                self.fail("phases.event", where, "after the ballots were sealed (round.closed)")
            elif entry.kind in _EVENT_PHASES and phase not in self._phases_for(entry):
                self.fail("phases.event", where, f"logged in phase {phase!r}")
        if "voting" in seen and "closed" not in seen:
            self.fail("phases.order", "log", "voting opened but the round was never closed")
        defined = [item["phase"] for item in self.bundle["round"].get("phases", [])]
        logged = [name for name in seen if name != "draft"]
        if defined and defined != logged[: len(defined)]:
            self.fail(
                "phases.round",
                "round.phases",
                f"the round lists {defined}, the log shows {logged}",
            )
        starts = [item.get("start") for item in self.bundle["round"].get("phases", [])]
        known = [start for start in starts if start]
        if known != sorted(known):
            self.fail("phases.round", "round.phases", "phase start times are not in order")
        return " -> ".join(seen) + (", in order" if phase in ("closed", "published") else "")

    def check_seed(self) -> str:
        seed = self.bundle["seed"]
        value, commitment = str(seed["value"]), str(seed["commitment"])
        if not check_seed(value, commitment):
            self.fail("seed.commitment", "seed", "the revealed seed does not match its commitment")
        committed = self._events(SEED_COMMITTED)
        if len(committed) != 1:
            self.fail("seed.logged", "log", f"{len(committed)} seed.committed events, expected 1")
        else:
            if committed[0].payload.get("commitment") != commitment:
                self.fail(
                    "seed.logged",
                    f"log seq {committed[0].seq}",
                    "the commitment logged at opening is not the bundle's",
                )
            first_ballot = next(
                (e.seq for e in self.state.entries if e.kind == BALLOT_ACCEPTED), None
            )
            if first_ballot is not None and first_ballot < committed[0].seq:
                self.fail(
                    "seed.logged",
                    f"log seq {committed[0].seq}",
                    "the seed was committed after ballots were accepted",
                )
        revealed = self._events(SEED_REVEALED)
        if len(revealed) != 1 or revealed[0].payload.get("seed") != value:
            self.fail("seed.logged", "log", "the seed revealed in the log is not the bundle's")
        return f"revealed seed matches the commitment {commitment[:12]}... logged before voting"

    def check_cast_vote_record(self) -> str:
        record = self.bundle["cast_vote_record"]
        if self.state.family == BUDGET:
            return self._check_budget_record(record)
        return self._check_preferendum_record(record)

    def _add_ballot(
        self, where: str, receipt: str, nonce: str, area: str | None, content: dict[str, Any]
    ) -> None:
        if receipt in self.state.ballots:
            self.fail("ballots.duplicate", where, f"receipt {receipt[:12]}... appears twice")
            return
        try:
            raw_nonce = bytes.fromhex(nonce)
        except ValueError:
            raw_nonce = b""
        if len(raw_nonce) != NONCE_BYTES:
            self.fail("ballots.nonce", where, f"nonce is not {NONCE_BYTES} bytes of hex")
            return
        try:
            recomputed = compute_receipt_hash(canonical_bytes(content), raw_nonce)
        except CanonicalJSONError as error:
            self.fail("ballots.receipt", where, f"ballot cannot be hashed: {error}")
            return
        if recomputed != receipt:
            self.fail(
                "ballots.receipt",
                where,
                f"the ballot does not hash to its receipt {receipt[:12]}...: the ballot was "
                "changed after it was cast",
            )
        self.state.ballots[receipt] = (area, content)

    def _check_budget_record(self, record: Mapping[str, Any]) -> str:
        from stemmen.budget.pabulib import PabulibError, parse_pabulib

        areas = {area["code"]: area for area in self.bundle["round"]["areas"]}
        published = {item["area"]: item["pabulib"] for item in record["areas"]}
        if sorted(published) != sorted(areas):
            self.fail(
                "cvr.areas",
                "cast_vote_record.areas",
                f"records for {sorted(published)}, the round has {sorted(areas)}",
            )
        for code in sorted(published):
            text = published[code]
            where = f"cast-vote record of {code}"
            try:
                instance, profile = parse_pabulib(text)
            except PabulibError as error:
                self.fail("cvr.pabulib", where, str(error))
                continue
            self.state.pabulib_by_area[code] = text
            area = areas.get(code)
            if area is not None:
                self._compare_projects(where, area, instance)
            voter_ids = [voter.id for voter in profile.voters]
            if voter_ids != sorted(voter_ids):
                self.fail(
                    "cvr.order",
                    where,
                    "ballots are not sorted by receipt: their order may reveal who voted when",
                )
            for line, voter in enumerate(profile.voters, start=1):
                vote = [instance.projects[index].id for index in voter.projects]
                content = budget_ballot_record(self.state.round_id, code, vote, voter.points)
                self._add_ballot(
                    f"{where}, ballot {line}",
                    voter.id,
                    voter.attributes.get(NONCE_COLUMN, ""),
                    code,
                    content,
                )
        count = sum(1 for area, _ in self.state.ballots.values() if area is not None)
        return f"{count} ballots in {len(published)} pabulib files, every receipt recomputed"

    def _compare_projects(self, where: str, area: Mapping[str, Any], instance: Any) -> None:
        expected = {str(p["id"]): int(p["cost_cents"]) for p in area["projects"]}
        found = {
            project.id: Fraction(project.cost * 100, instance.unit) for project in instance.projects
        }
        if set(found) != set(expected):
            self.fail(
                "cvr.projects",
                where,
                f"projects {sorted(found)} differ from the round's {sorted(expected)}",
            )
        for project_id in sorted(set(found) & set(expected)):
            if found[project_id] != expected[project_id]:
                self.fail(
                    "cvr.projects",
                    f"{where}, project {project_id}",
                    f"costs {found[project_id]} cents, the round says {expected[project_id]}",
                )
        budget = Fraction(instance.budget * 100, instance.unit)
        if budget != int(area["budget_cents"]):
            self.fail(
                "cvr.budget", where, f"budget {budget} cents, the round says {area['budget_cents']}"
            )

    def _check_preferendum_record(self, record: Mapping[str, Any]) -> str:
        questions = {q["id"]: q for q in self.bundle["round"]["questions"]}
        receipts = [str(ballot["receipt"]) for ballot in record["ballots"]]
        if receipts != sorted(receipts):
            self.fail(
                "cvr.order",
                "cast_vote_record.ballots",
                "ballots are not sorted by receipt: their order may reveal who voted when",
            )
        for line, ballot in enumerate(record["ballots"], start=1):
            where = f"cast-vote record, ballot {line}"
            answers = ballot["answers"]
            unknown = sorted(set(answers) - set(questions))
            if unknown:
                self.fail("cvr.questions", where, f"answers unknown questions {unknown}")
            content = preferendum_ballot_record(self.state.round_id, answers)
            self._add_ballot(where, str(ballot["receipt"]), str(ballot["nonce"]), None, content)
        return f"{len(receipts)} ballots over {len(questions)} questions, every receipt recomputed"

    def check_ballot_rules(self) -> str:
        """Every counted ballot respects the rule set's ballot section (an independent check,
        not the service's validator): counts, blanks, points, and the budget where it binds."""
        rules = self.bundle["ruleset"]["document"]["ballot"]
        low = int(rules.get("min_selections", 1))
        high = rules.get("max_selections")
        allow_blank = bool(rules.get("allow_abstain", False))
        within_budget = bool(rules.get("within_budget", rules["format"] == "knapsack"))
        max_points, per_option = rules.get("max_points"), rules.get("max_points_per_option")

        def count_problem(chosen: int) -> str | None:
            if chosen == 0:
                return None if allow_blank else "a blank vote, which the rule set does not allow"
            if chosen < low:
                return f"chooses {chosen}, fewer than the minimum {low}"
            if high is not None and chosen > int(high):
                return f"chooses {chosen}, more than the maximum {high}"
            return None

        before = len(self.findings)
        areas = {str(a["code"]): a for a in self.bundle["round"].get("areas", [])}
        questions = [str(q["id"]) for q in self.bundle["round"].get("questions", [])]
        for receipt, (area, content) in sorted(self.state.ballots.items()):
            where = f"ballot {receipt[:12]}..."
            problems: list[str] = []
            if content["kind"] == "budget":
                points = content.get("points")
                chosen_ids = (
                    [p for p, n in zip(content["vote"], points, strict=False) if n > 0]
                    if points is not None and rules["format"] == "cumulative"
                    else list(content["vote"])
                )
                problem = count_problem(len(chosen_ids))
                if problem:
                    problems.append(problem)
                if points is not None and rules["format"] == "cumulative":
                    if max_points is not None and sum(points) > int(max_points):
                        problems.append(f"spends {sum(points)} points, more than {max_points}")
                    if per_option is not None and any(n > int(per_option) for n in points):
                        problems.append(f"gives one project more than {per_option} points")
                project_costs = {
                    str(p["id"]): int(p["cost_cents"])
                    for p in areas.get(str(area), {}).get("projects", [])
                }
                budget = areas.get(str(area), {}).get("budget_cents")
                cost = sum(project_costs.get(p, 0) for p in chosen_ids)
                if within_budget and budget is not None and cost > int(budget):
                    problems.append(
                        f"costs EUR {Fraction(cost, 100)}, over the EUR "
                        f"{Fraction(int(budget), 100)} budget of {area}"
                    )
            else:
                answers = content["answers"]
                for qid in questions:
                    answer = answers.get(qid)
                    if answer is None:
                        if not allow_blank and rules.get("max_questions") is None:
                            problems.append(f"leaves question {qid} blank, which is not allowed")
                        continue
                    problem = count_problem(_chosen_in_answer(answer))
                    if problem:
                        problems.append(f"question {qid}: {problem}")
            for problem in problems:
                self.fail("ballots.rules", where, problem)
        found = len(self.findings) - before
        return (
            f"{len(self.state.ballots)} ballots within the rule set's {rules['format']} rules"
            if not found
            else f"{found} ballots break the rule set's {rules['format']} rules"
        )

    def check_merkle(self) -> str:
        listed = [str(receipt) for receipt in self.bundle["receipts"]]
        if listed != sorted(listed):
            self.fail("merkle.order", "receipts", "receipts are not in ascending order")
        try:
            leaves = receipt_leaves(listed)
        except MerkleError as error:
            self.fail("merkle.receipts", "receipts", str(error))
            return "receipts unreadable"
        root = merkle_root(leaves).hex()
        if root != self.bundle["merkle_root"]:
            self.fail(
                "merkle.root",
                "merkle_root",
                f"the receipts give root {root[:12]}..., the bundle says "
                f"{str(self.bundle['merkle_root'])[:12]}...",
            )
        closed = self._events(ROUND_CLOSED)
        if len(closed) != 1:
            self.fail("merkle.logged", "log", f"{len(closed)} round.closed events, expected 1")
        elif closed[0].payload.get("merkle_root") != root:
            self.fail(
                "merkle.logged",
                f"log seq {closed[0].seq} (round.closed)",
                "the ballot tree root logged at the close differs from the receipts' root: "
                "ballots were added or removed after the close",
            )
        in_record = set(self.state.ballots)
        for receipt in sorted(set(listed) - in_record):
            self.fail("merkle.record", f"receipt {receipt[:12]}...", "listed but has no ballot")
        for receipt in sorted(in_record - set(listed)):
            self.fail("merkle.record", f"receipt {receipt[:12]}...", "a ballot that is not listed")
        return f"{len(leaves)} receipts, root {root[:12]}... as logged at the close"

    def check_counts(self) -> str:
        accepted: dict[str, LogEntry] = {}
        superseded: set[str] = set()
        # batch -> seq of its confirmation; a paper ballot counts only if its batch was
        # confirmed after the ballot was entered.
        confirmed_batches: dict[str, int] = {}
        for entry in self.state.entries:
            where = f"log seq {entry.seq}"
            if entry.kind == BALLOT_ACCEPTED:
                receipt = str(entry.payload.get("receipt"))
                if receipt in accepted:
                    self.fail("counts.log", where, f"receipt {receipt[:12]}... accepted twice")
                accepted[receipt] = entry
            elif entry.kind == BALLOT_SUPERSEDED:
                receipt = str(entry.payload.get("receipt"))
                if receipt not in accepted:
                    self.fail("counts.log", where, f"supersedes unknown receipt {receipt[:12]}...")
                superseded.add(receipt)
            elif entry.kind == PAPER_BATCH_CONFIRMED:
                confirmed_batches.setdefault(str(entry.payload.get("batch")), entry.seq)
        counted = {
            receipt
            for receipt, entry in accepted.items()
            if receipt not in superseded
            and (
                entry.payload.get("channel") != "paper"
                or confirmed_batches.get(str(entry.payload.get("batch")), 0) > entry.seq
            )
        }
        unconfirmed = sum(
            1
            for receipt, entry in accepted.items()
            if receipt not in superseded and receipt not in counted
        )
        published = {str(receipt) for receipt in self.bundle["receipts"]}
        for receipt in sorted(counted - published):
            self.fail(
                "counts.missing",
                f"receipt {receipt[:12]}... (accepted at seq {accepted[receipt].seq})",
                "accepted and never superseded, but not published: a counted ballot was dropped",
            )
        for receipt in sorted(published - counted):
            reason = "was superseded" if receipt in superseded else "was never accepted"
            self.fail(
                "counts.extra",
                f"receipt {receipt[:12]}...",
                f"published but {reason} in the log: a ballot was inserted",
            )
        closed = self._events(ROUND_CLOSED)
        if len(closed) == 1 and closed[0].payload.get("ballots") != len(published):
            self.fail(
                "counts.closed",
                f"log seq {closed[0].seq}",
                f"{closed[0].payload.get('ballots')} ballots logged at the close, "
                f"{len(published)} published",
            )
        if len(closed) == 1:
            # Optional breakdowns the close may log; each must agree with the log itself.
            by_channel = {
                channel: sum(
                    1 for r in counted if accepted[r].payload.get("channel", "online") == channel
                )
                for channel in ("online", "paper")
            }
            expected = {**by_channel, "superseded": len(superseded)}
            for key, value in expected.items():
                logged = closed[0].payload.get(key)
                if logged is not None and logged != value:
                    self.fail(
                        "counts.closed",
                        f"log seq {closed[0].seq}",
                        f"{logged} {key} logged at the close, the log's ballots give {value}",
                    )
        return (
            f"{len(accepted)} accepted - {len(superseded)} superseded"
            + (f" - {unconfirmed} in unconfirmed paper batches" if unconfirmed else "")
            + f" = {len(counted)}; {len(published)} published"
        )

    def check_results(self) -> str:
        results = self.bundle["results"]
        published = self._events(RESULT_PUBLISHED)
        computed_hash = results_hash(results)
        if len(published) != 1:
            self.fail("result.logged", "log", f"{len(published)} result.published events")
        elif published[0].payload.get("results_hash") != computed_hash:
            self.fail(
                "result.logged",
                f"log seq {published[0].seq} (result.published)",
                "the published results differ from those whose hash was logged",
            )
        ruleset = self.bundle["ruleset"]["document"]
        seed = str(self.bundle["seed"]["value"])
        if self.state.family == BUDGET:
            return self._check_budget_results(results, ruleset, seed)
        return self._check_question_results(results, ruleset, seed)

    def _check_per_question_results(
        self, results: Sequence[Mapping[str, Any]], ruleset: Mapping[str, Any], seed: str
    ) -> str:
        """Results published one item per question: ``{"question", "tally"[, "quorum"]}``."""
        by_question = {str(item["question"]): item for item in results}
        if len(by_question) != len(results):
            self.fail("result.extra", "results", "a question has more than one published result")
        questions = {str(q["id"]): q for q in self.bundle["round"]["questions"]}
        turnout = len(self.state.ballots)
        for qid in sorted(set(by_question) | set(questions)):
            where = f"result of question {qid}"
            if qid not in by_question or qid not in questions:
                self.fail("result.missing", where, "question and result do not match up")
                continue
            answers = [
                content["answers"][qid]
                for _, (_, content) in sorted(self.state.ballots.items())
                if qid in content["answers"]
            ]
            try:
                ours = recompute_question(questions[qid], answers, ruleset, seed)
            except (KeyError, TypeError, ValueError) as error:
                self.fail("result.recomputed", where, f"the engine cannot recompute it: {error}")
                continue
            theirs = by_question[qid]["tally"]
            for key in ("method", "ranking", "scores", "winners"):
                if ours.get(key) != theirs.get(key):
                    self.fail(
                        "result.recomputed",
                        f"{where}, {key}",
                        f"published {theirs.get(key)!r}, recomputed {ours.get(key)!r}",
                    )
            quorum = by_question[qid].get("quorum")
            if isinstance(quorum, Mapping):
                for key, expected in (("turnout", turnout), ("participation", len(answers))):
                    if key in quorum and quorum[key] != expected:
                        self.fail(
                            "result.quorum",
                            f"{where}, quorum.{key}",
                            f"published {quorum[key]!r}, the record has {expected}",
                        )
        return f"recomputed {len(by_question)} questions: rankings and scores as published"

    def _check_budget_results(
        self, results: Sequence[Mapping[str, Any]], ruleset: Mapping[str, Any], seed: str
    ) -> str:
        by_area = {str(item["area"]): item for item in results}
        if len(by_area) != len(results):
            self.fail("result.extra", "results", "an area has more than one published result")
        funded = 0
        for code in sorted(set(by_area) | set(self.state.pabulib_by_area)):
            where = f"result of {code}"
            if code not in by_area:
                self.fail("result.missing", where, "no published result for this area")
                continue
            if code not in self.state.pabulib_by_area:
                self.fail("result.extra", where, "a result for an area without ballots")
                continue
            try:
                ours = recompute_budget_area(self.state.pabulib_by_area[code], ruleset, seed)
            except (KeyError, TypeError, ValueError) as error:
                self.fail("result.recomputed", where, f"the engine cannot recompute it: {error}")
                continue
            theirs = by_area[code]["allocation"]
            if sorted(ours["selected"]) != sorted(theirs["selected"]):
                self.fail(
                    "result.recomputed",
                    where,
                    f"published funds {sorted(theirs['selected'])}, the engine funds "
                    f"{sorted(ours['selected'])}",
                )
            if ours["total_cost_minor"] != theirs.get("total_cost_minor"):
                self.fail(
                    "result.recomputed",
                    where,
                    f"published total {theirs.get('total_cost')}, recomputed {ours['total_cost']}",
                )
            if _outcomes(ours) != _outcomes(theirs):
                self.fail(
                    "result.explanation",
                    where,
                    "the per-project explanation differs from the recomputed one",
                )
            funded += len(ours["selected"])
        return (
            f"recomputed {len(by_area)} areas with {_rule_text(ruleset)}: "
            f"{funded} projects funded, as published"
        )

    def _check_question_results(
        self, results: Sequence[Mapping[str, Any]], ruleset: Mapping[str, Any], seed: str
    ) -> str:
        if results and all("question" in item for item in results):
            return self._check_per_question_results(results, ruleset, seed)
        if len(results) != 1 or "preferendum" not in results[0]:
            self.fail("result.extra", "results", "a preferendum publishes exactly one result")
            return "no single result to compare"
        theirs = results[0]["preferendum"]
        try:
            ours = recompute_preferendum(preferendum_tally_record(self.bundle))
        except (KeyError, TypeError, ValueError) as error:
            self.fail("result.recomputed", "result", f"the engine cannot recompute it: {error}")
            return "not recomputed"
        for key in ("turnout", "quorum_met"):
            if ours.get(key) != theirs.get(key):
                self.fail(
                    "result.recomputed",
                    f"result, {key}",
                    f"published {theirs.get(key)!r}, recomputed {ours.get(key)!r}",
                )
        published = {str(q.get("id")): q for q in theirs.get("questions", [])}
        for question in ours["questions"]:
            qid = str(question["id"])
            where = f"result of question {qid}"
            if qid not in published:
                self.fail("result.missing", where, "no published result for this question")
                continue
            other = published.pop(qid)
            for key in ("method", "participation", "excluded_options"):
                if question.get(key) != other.get(key):
                    self.fail(
                        "result.recomputed",
                        f"{where}, {key}",
                        f"published {other.get(key)!r}, recomputed {question.get(key)!r}",
                    )
            ours_tally, theirs_tally = question.get("result") or {}, other.get("result") or {}
            for key in ("ranking", "scores", "winners"):
                if ours_tally.get(key) != theirs_tally.get(key):
                    self.fail(
                        "result.recomputed",
                        f"{where}, {key}",
                        f"published {theirs_tally.get(key)!r}, recomputed {ours_tally.get(key)!r}",
                    )
        for qid in sorted(published):
            self.fail("result.extra", f"result of question {qid}", "the round has no such question")
        quorum = "quorum met" if ours.get("quorum_met") else "quorum NOT met"
        return (
            f"recomputed {len(ours['questions'])} questions, turnout {ours.get('turnout')}, "
            f"{quorum}: rankings and scores as published"
        )


def _chosen_in_answer(answer: Mapping[str, Any]) -> int:
    """What counts as chosen in a preferendum answer: ticked, ranked, graded or scored."""
    if "approvals" in answer:
        return len(answer["approvals"])
    if "ranking" in answer:
        return sum(len(tier) if isinstance(tier, list) else 1 for tier in answer["ranking"])
    graded = answer.get("grades", answer.get("scores", {}))
    return sum(1 for value in graded.values() if value is not None)


def _outcomes(allocation: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (item.get("id"), item.get("funded"), str(item.get("support")))
        for item in allocation.get("projects", [])
    ]


def _rule_text(ruleset: Mapping[str, Any]) -> str:
    allocation = ruleset.get("allocation", {})
    parts = [str(allocation.get("rule"))]
    parts.extend(
        f"{key} {allocation[key]}" for key in ("satisfaction", "completion") if key in allocation
    )
    return " ".join(parts)


# ---------------------------------------------------------------------- recomputation


def _tie_break(ruleset: Mapping[str, Any], seed: str) -> list[str]:
    """The rule set's tie-break with its lottery bound to the revealed seed."""
    return [
        f"lottery:{seed}" if key == "lottery" else str(key) for key in ruleset.get("tie_break", [])
    ]


def budget_options(
    ruleset: Mapping[str, Any], seed: str, instance: Any, profile: Any
) -> tuple[str, dict[str, Any]]:
    """The engine rule name and options a rule set's ``allocation`` section stands for."""
    allocation = ruleset["allocation"]
    rule = str(allocation["rule"])
    options: dict[str, Any] = {"tie_break": ",".join(_tie_break(ruleset, seed))}
    if rule in ("max-welfare", "mes") and "satisfaction" in allocation:
        options["satisfaction"] = allocation["satisfaction"]
    if rule == "mes" and "completion" in allocation:
        options["completion"] = allocation["completion"]
    minimum = allocation.get("min_support")
    if minimum:
        if "votes" in minimum:
            options["threshold"] = int(minimum["votes"])
        else:
            options["threshold_share"] = Fraction(int(minimum["percent_of_voters"]), 100)
    caps = allocation.get("category_caps_cents")
    if caps:
        key = "category_max" if rule == "max-welfare" else "category_caps"
        options[key] = {
            name: int(Fraction(int(cents) * instance.unit, 100)) for name, cents in caps.items()
        }
    shares = allocation.get("channel_weights")
    if shares:
        # Each channel makes up its share of the outcome: a voter weighs share / channel size.
        sizes: dict[str, int] = {}
        for voter in profile.voters:
            channel = voter.attributes.get("voting_method", "")
            sizes[channel] = sizes.get(channel, 0) + 1
        total = sum(int(value) for value in shares.values())
        options["channel_weights"] = {
            channel: Fraction(int(shares[channel]) * profile.voter_count, total * sizes[channel])
            for channel in sizes
            if channel in shares
        }
    return rule, options


def recompute_budget_area(
    pabulib_text: str, ruleset: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    """Allocate one area's published ``.pb`` under the pinned rule set; the allocation JSON."""
    from stemmen.budget.pabulib import parse_pabulib

    instance, profile = parse_pabulib(pabulib_text)
    rule, options = budget_options(ruleset, seed, instance, profile)
    allocation = _allocate(instance, profile, rule, options)
    return publishable_allocation(allocation.to_json())


def _allocate(instance: Any, profile: Any, rule: str, options: dict[str, Any]) -> Any:
    from stemmen.budget.registry import allocate

    return allocate(instance, profile, rule, **options)


def recompute_question(
    question: Mapping[str, Any],
    answers: Sequence[Mapping[str, Any]],
    ruleset: Mapping[str, Any],
    seed: str,
) -> dict[str, Any]:
    """Tally one question's published answers under its method; the tally JSON.

    The answers go through the tally engine's single-question record, so mixed ballots are
    read as the engine reads them; ``scores`` answers are grades on a numeric scale.
    """
    from stemmen.tally.jsonio import parse_question_ballots
    from stemmen.tally.preferendum import TallyOptions, tally_question

    scale = question.get("scale") or ruleset.get("ballot", {}).get("scale")
    record: dict[str, Any] = {
        "options": [
            str(option["id"]) if isinstance(option, Mapping) else str(option)
            for option in question["options"]
        ],
        "ballots": [
            {"grades": answer["scores"]} if "scores" in answer else dict(answer)
            for answer in answers
        ],
    }
    if scale:
        record["scale"] = {key: value for key, value in scale.items() if key != "blank_allowed"}
    lottery = [step for step in _tie_break(ruleset, seed) if step.startswith("lottery:")]
    settings = ruleset.get("tally", {})
    options = TallyOptions(
        method=str(question["method"]),
        tie_break=tuple(lottery),
        unranked_below_ranked=bool(settings.get("unranked_below_ranked", True)),
    )
    result: dict[str, Any] = tally_question(parse_question_ballots(record), options).to_json()
    return result


def recompute_preferendum(tally_record: Mapping[str, Any]) -> dict[str, Any]:
    """Tally a preferendum's record (the tally engine's multi-question JSON); the result JSON."""
    from stemmen.tally.jsonio import parse_preferendum
    from stemmen.tally.preferendum import tally_preferendum

    result: dict[str, Any] = tally_preferendum(parse_preferendum(tally_record)).to_json()
    return result


# ---------------------------------------------------------------------- entry points


def verify_bundle(
    bundle: Mapping[str, Any], expected_heads: Iterable[str] = ()
) -> VerificationReport:
    """Run every check on a loaded bundle. ``expected_heads``: head hashes published earlier."""
    verifier = _Verifier(bundle, list(expected_heads))
    verifier.run("format", verifier.check_format)
    if verifier.findings:
        return VerificationReport(tuple(verifier.lines), tuple(verifier.findings))
    verifier.run("chain", verifier.check_chain)
    verifier.run("rule set", verifier.check_ruleset)
    verifier.run("round", verifier.check_round)
    verifier.run("phases", verifier.check_phases)
    verifier.run("seed", verifier.check_seed)
    verifier.run("cast-vote record", verifier.check_cast_vote_record)
    verifier.run("ballot rules", verifier.check_ballot_rules)
    verifier.run("ballot tree", verifier.check_merkle)
    verifier.run("counts", verifier.check_counts)
    verifier.run("result", verifier.check_results)
    return VerificationReport(tuple(verifier.lines), tuple(verifier.findings))


@dataclass(frozen=True)
class ReceiptReport:
    """What one resident learns from their receipt code."""

    ok: bool
    lines: tuple[str, ...]
    receipt_hash: str | None = None
    ballot: Mapping[str, Any] | None = None

    def render(self) -> str:
        return "\n".join(self.lines)


def verify_receipt(bundle: Mapping[str, Any], code: str) -> ReceiptReport:
    """Is the ballot behind ``code`` published, in the ballot tree, and logged as accepted?"""
    lines: list[str] = []
    published = bundle.get("receipts")
    if not isinstance(published, list):
        return ReceiptReport(
            False,
            (
                "FAIL bundle: it has no list of receipts ('receipts'), so no receipt can be "
                "found in it; download the round's bundle again from the municipality's site",
            ),
        )
    receipts = [str(receipt) for receipt in published]
    try:
        full = receipt_hash(code, receipts)
    except ReceiptCodeError as error:
        return ReceiptReport(False, (f"FAIL receipt: {error}",))
    if full is None:
        return ReceiptReport(
            False,
            (
                f"FAIL receipt: no counted ballot has the code {code.strip()}. If you typed it "
                "correctly and did not vote again later, your ballot was not counted: report "
                "this to the municipality and the auditor.",
            ),
        )
    ok = True
    lines.append(f"OK   receipt: {code.strip()} is receipt {full}")
    try:
        leaves = receipt_leaves(receipts)
        index = leaves.index(bytes.fromhex(full))
        proof = inclusion_proof(leaves, index)
        root = bytes.fromhex(str(bundle.get("merkle_root", "")))
        included = verify_inclusion(bytes.fromhex(full), index, len(leaves), proof, root)
    except (MerkleError, ValueError) as error:
        ok = False
        lines.append(f"FAIL ballot tree: the published receipts or root are damaged ({error})")
    else:
        if included:
            lines.append(
                f"OK   ballot tree: leaf {index + 1} of {len(leaves)}, {len(proof)}-step proof "
                f"to root {root.hex()[:12]}..."
            )
        else:
            ok = False
            lines.append("FAIL ballot tree: the receipt does not lead to the published root")
    log = bundle.get("log")
    entries = log.get("entries") if isinstance(log, Mapping) else None
    logged = [
        entry
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, Mapping)
        and entry.get("kind") == BALLOT_ACCEPTED
        and isinstance(entry.get("payload"), Mapping)
        and entry["payload"].get("receipt") == full
    ]
    if logged:
        lines.append(f"OK   log: accepted at seq {logged[0].get('seq')} ({logged[0].get('at')})")
    else:
        ok = False
        lines.append("FAIL log: no ballot.accepted entry carries this receipt")
    published = _published_ballot(bundle, full)
    ballot: dict[str, Any] | None = None
    if published is None:
        ok = False
        lines.append("FAIL ballot: no ballot in the cast-vote record has this receipt")
    else:
        ballot, nonce = published
        try:
            recomputed = compute_receipt_hash(canonical_bytes(ballot), bytes.fromhex(nonce))
        except ValueError:
            recomputed = ""
        if recomputed == full:
            lines.append(f"OK   ballot as counted: {_describe(ballot)}")
            lines.append("     Compare it with what you cast; if it differs, report it.")
        else:
            ok = False
            lines.append(
                f"FAIL ballot: the published ballot ({_describe(ballot)}) does not hash to this "
                "receipt: it was changed after it was cast"
            )
    lines.append("     (This checks your ballot only; `stemmen verify BUNDLE` checks the rest.)")
    return ReceiptReport(ok, tuple(lines), full, ballot)


def _published_ballot(bundle: Mapping[str, Any], full: str) -> tuple[dict[str, Any], str] | None:
    """The ballot record published under receipt ``full`` and its nonce, if there is one."""
    try:
        round_id = str(bundle["round"]["id"])
        record = bundle["cast_vote_record"]
        if family_of(bundle["round"]) == BUDGET:
            from stemmen.budget.pabulib import parse_pabulib

            for area in record["areas"]:
                if full not in area["pabulib"]:
                    continue
                instance, profile = parse_pabulib(area["pabulib"])
                for voter in profile.voters:
                    if voter.id == full:
                        vote = [instance.projects[i].id for i in voter.projects]
                        content = budget_ballot_record(round_id, area["area"], vote, voter.points)
                        return content, voter.attributes.get(NONCE_COLUMN, "")
            return None
        for item in record["ballots"]:
            if item["receipt"] == full:
                return preferendum_ballot_record(round_id, item["answers"]), str(item["nonce"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _describe(ballot: Mapping[str, Any]) -> str:
    if "vote" in ballot:
        points = ballot.get("points")
        chosen = (
            ", ".join(f"{p} ({n} points)" for p, n in zip(ballot["vote"], points, strict=True))
            if points is not None
            else ", ".join(ballot["vote"]) or "blank"
        )
        return f"area {ballot['area']}: {chosen}"
    return "; ".join(
        f"{question}: {answer}" for question, answer in sorted(ballot["answers"].items())
    )
